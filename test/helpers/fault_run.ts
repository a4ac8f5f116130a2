// One seeded fault run: a 3-actor cluster of real processes, client lanes writing and reading, the fault injector
// moving forks and killing / freezing actors / filling a small disk, then healing everything and checking the
// invariants (fault_checker.ts) from the history, a final read of every key and the actors' own reports.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { ADMIN_COMMANDS } from '../../schemas/admin.js';
import { seededRandom } from '../../model/sample.js';
import { StoreClient, type Value } from '../../store/client/client.js';
import { ownershipConflicts } from '../../store/map/ownership_history.js';
import { history, members, move, until } from './cluster_procs.js';
import { ActorSet, freePort, type FaultActor } from './fault_actors.js';
import { checkFences, checkHistory, checkOwners, type FinalValues, type Violation } from './fault_checker.js';
import { SmallDisk } from './fault_disk.js';
import { FaultNetwork } from './fault_network.js';
import { History, counterOf, setSeqOf } from './fault_history.js';
import { FaultInjector, type FaultKind } from './fault_injector.js';
import { KeyLayout, preload, runLane } from './fault_workload.js';

export interface RunOptions {
  seed: number;
  /** How long clients write and the injector injects. */
  chaosMs: number;
  deadAfterMs: number;
  /** Writer lanes (sets, increments and reads) and reader lanes (reads only). */
  lanes: number;
  readers: number;
  /** After healing, how long a fork may stay fenced before that is a violation (a move stuck on a dead peer waits out its 30 s chunk timeout). */
  fenceSettleMs: number;
  /** Put one actor on a small disk in every run, not in half of them (the draw is taken all the same). */
  alwaysSmallDisk?: boolean;
  /** Restrict the injector to these fault kinds (default: all). */
  kinds?: FaultKind[];
  /** Each fork's copies (`--replicas`); with 2 or more a member may be lost for good (kill-permanent). */
  replicas?: number;
}

export interface RunReport {
  seed: number;
  ms: number;
  faults: Record<string, number>;
  faultsDuringMove: number;
  moves: Record<string, number>;
  crashes: number;
  smallDisk: string | null;
  writesChecked: number;
  ackedWrites: number;
  readsChecked: number;
  outcomes: Record<string, number>;
  errorSamples: Record<string, string[]>;
  violations: Violation[];
  notes: string[];
  events: string[];
  /** Tail of each actor's output, kept only when something was violated. */
  logs: Record<string, string>;
}

/** An independent stream per purpose (lanes, injector, layout), so one stream's draws never shift another's. */
const derive = (seed: number, k: number) => (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(k + 1, 0x27d4eb2d)) >>> 0;
const IDS = ['a', 'b', 'c'];
const SMALL_DISK_MB = 24;

export async function faultRun(t: ExecutionContext, o: RunOptions): Promise<RunReport> {
  const started = performance.now();
  const rng = seededRandom(derive(o.seed, 0));
  const notes: string[] = [];
  const events: string[] = [];
  const log = (line: string) => events.push(`${Math.round(performance.now() - started)} ms ${line}`);
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), `dbslm-fault-${o.seed}-`));
  // Every actor in a network namespace of its own where this machine allows it, so that partitions can cut it off.
  const network = FaultNetwork.setUp(IDS, (why) => notes.push(why));
  const actors = new ActorSet(o.deadAfterMs, network, o.replicas ?? 1);
  let disk: SmallDisk | null = null;
  const clients: StoreClient[] = [];
  t.teardown(async () => {
    for (const c of clients) c.close();
    await actors.closeAll();
    network?.tearDown();
    disk?.unmount();
    fs.rmSync(parent, { recursive: true, force: true });
  });

  // Half the runs put one actor's data on a small tmpfs (root only): its WAL and incoming moves fill it.
  const wantDisk = rng() < 0.5 || !!o.alwaysSmallDisk;
  const diskActor = IDS[Math.floor(rng() * IDS.length)]!;
  if (wantDisk) disk = SmallDisk.mount(parent, SMALL_DISK_MB, (why) => notes.push(why));
  const dirOf = (id: string) => (disk && id === diskActor ? disk.dataDir : path.join(parent, id));

  const a = await startCluster(actors, dirOf);
  log('processes started');
  const eps = () => actors.list().map((x) => x.ep);
  const admin = await StoreClient.connect(eps(), { timeoutMs: 2000, retries: 3 });
  clients.push(admin);
  await waitAllAlive(admin, actors, 15000);
  log('cluster up');

  // Hot contexts, each on a random member; forks start on a, so the others get theirs by (still quiet) moves.
  const layout = new KeyLayout(`r${o.seed}`, 6, 4, 4, 10000);
  const hotForks = [...new Set(Array.from({ length: layout.contexts }, (_, c) => admin.locate(layout.contextKey(c)).fork))];
  for (const fork of hotForks) {
    const home = IDS[Math.floor(rng() * IDS.length)]!;
    // On a busy machine gossip may suspect a member for a moment ("target b is suspect"): a few bounded retries.
    for (let attempt = 0; home !== 'a'; attempt++) {
      const r = await move(admin, a.ep, fork, home);
      if (r.code === 'OK') break;
      // (replicas) A fork is never moved onto its replica: it stays where it is.
      if (r.code === 'BAD_REQUEST' && /holds a replica/.test(r.message)) break;
      if (attempt >= 20) throw new Error(`initial move of ${fork} to ${home}: ${r.code} ${r.message}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }
  await admin.refreshMap();
  log('hot forks placed');
  await preload(admin, layout);
  log('preloaded');
  if ((o.replicas ?? 1) > 1) {
    // A member may be lost for good only once every fork has its replicas in sync: before that a
    // fork's only copy is its owner's, and no replication can keep what nobody else holds.
    const want = (o.replicas ?? 1) - 1;
    const ms = await until('every fork has its in-sync replicas', async () => {
      const v = await members(admin, a.ep).catch(() => null);
      return !!v && v.forks.every((f) => (f.inSync ?? []).length >= want);
    }, 30000, 100);
    log(`replicas in sync after ${Math.round(ms)} ms`);
  }

  const h = new History();
  const chaosStart = performance.now();
  const untilMs = chaosStart + o.chaosMs;
  const contextOfFork = new Map(Array.from({ length: layout.contexts }, (_, c) => [admin.locate(layout.contextKey(c)).fork, c] as const));
  const injector = new FaultInjector({
    actors,
    admin,
    rng: seededRandom(derive(o.seed, 1)),
    hotForks,
    deadAfterMs: o.deadAfterMs,
    disk: disk ? { actor: diskActor, disk } : null,
    network,
    replicas: o.replicas ?? 1,
    probePrefix: (fork) => layout.emptyPrefix(contextOfFork.get(fork)!),
    kinds: o.kinds,
    log,
  });
  // Writer lanes refetch the map at graded rates; reader lanes never do and keep many reads outstanding, so some reads
  // still go to a fork's old owner (and wait there while it is down) after writers moved on to the new one.
  const lane = (i: number, readOnly: boolean) =>
    runLane({
      lane: i,
      lanes: o.lanes,
      rng: seededRandom(derive(o.seed, 10 + i)),
      layout,
      history: h,
      endpoints: eps(),
      untilMs,
      maxOps: 20000,
      timeoutMs: 1000,
      retries: 6,
      inFlight: readOnly ? 64 : 4,
      pauseMs: readOnly ? 8 : 6,
      refreshOdds: readOnly ? 0 : (0.02 + (0.18 * i) / Math.max(1, o.lanes - 1)),
      readOnly,
    });
  const lanes = [...Array.from({ length: o.lanes }, (_, i) => lane(i, false)), ...Array.from({ length: o.readers }, (_, i) => lane(o.lanes + i, true))];
  await Promise.all([injector.run(untilMs, 200), ...lanes]);
  // Moves still running go on during the heal (the checks must hold with a move in flight too), but a move whose
  // source was killed never answers: waiting out its timeout would only cost time.
  await injector.settle(Number(process.env.FAULT_SETTLE_MS ?? 1000));

  // Heal: free the disk, thaw the frozen, restart the dead; then wait for gossip and for every fence to lift.
  const healStart = performance.now();
  if (disk) {
    disk.freeBallast();
    disk.grow(512);
  }
  network?.rejoinAll();
  await actors.healAll();
  log('healed: all actors up and linked');
  await waitAllAlive(admin, actors, 20000).catch((err) => notes.push(`after healing: ${(err as Error).message}`));
  const fenced = await waitUnfenced(admin, actors, o.fenceSettleMs);
  log(`fences settled (${fenced.length} left) after ${Math.round(performance.now() - healStart)} ms`);
  if (actors.gone.size) {
    // A member lost for good near the end of the run: its forks fail over (a dead bound and a lease period) before
    // they can be read; without the wait, a kill made just before the heal left them unreadable (seed 43).
    const failedOver = async () => {
      const views = await Promise.all(actors.members().map((x) => members(admin, x.ep, 1000).catch(() => null)));
      return views.every((v) => v && v.forks.every((f) => !actors.gone.has(f.owner)));
    };
    const ms = await until('the forks of the member lost for good have failed over', failedOver, 15000, 100).catch((err) => (notes.push((err as Error).message), NaN));
    log(`forks of ${[...actors.gone].join(', ')} failed over after ${Math.round(ms)} ms more`);
  }

  // The final state through a fresh client, then the ownership histories of all members.
  // A member lost for good is neither asked nor waited for: what it acknowledged must be on the others.
  const reader = await StoreClient.connect(actors.members().map((x) => x.ep), { timeoutMs: 3000, retries: 10 });
  clients.push(reader);
  const final = await finalValues(reader, layout);
  const histories = await Promise.all(actors.members().map((x) => history(admin, x.ep).catch(() => [])));

  const hc = checkHistory(h, final, chaosStart);
  const violations = [...hc.violations, ...checkFences(fenced), ...checkOwners(ownershipConflicts(histories))];
  // For a closer look at one run: the whole history (times relative to the start of the faults), as JSON.
  if (process.env.FAULT_DUMP_DIR) {
    const rel = <T extends { sendMs: number; ackMs: number }>(r: T) => ({ ...r, sendMs: Math.round(r.sendMs - chaosStart), ackMs: Math.round(r.ackMs - chaosStart) });
    const dump = { seed: o.seed, events, sets: h.sets.map(rel), incrs: h.incrs.map(rel), reads: h.reads.map(rel), final, fenced, histories, violations, logs: Object.fromEntries(actors.list().map((x) => [x.id, x.log])) };
    fs.mkdirSync(process.env.FAULT_DUMP_DIR, { recursive: true });
    fs.writeFileSync(path.join(process.env.FAULT_DUMP_DIR, `fault-${o.seed}.json`), JSON.stringify(dump));
  }
  const crashes = actors.list().reduce((n, x) => n + x.crashes, 0);
  return {
    seed: o.seed,
    ms: Math.round(performance.now() - started),
    faults: injector.injected,
    faultsDuringMove: injector.duringMove,
    moves: injector.moves,
    crashes,
    smallDisk: disk ? diskActor : null,
    writesChecked: hc.writesChecked,
    ackedWrites: hc.ackedWrites,
    readsChecked: hc.readsChecked,
    outcomes: h.outcomes(),
    errorSamples: Object.fromEntries(h.errorSamples),
    violations,
    notes,
    events,
    logs: violations.length || crashes ? Object.fromEntries(actors.list().map((x) => [x.id, x.log.slice(-3000)])) : {},
  };
}

/**
 * All three start together (a process start takes seconds on a busy machine): b and c join a's endpoint, chosen in
 * advance. Another process may take that port in between ("Address already in use"): then all three start over on
 * a new one (bounded).
 */
async function startCluster(actors: ActorSet, dirOf: (id: string) => string): Promise<FaultActor> {
  for (let attempt = 0; ; attempt++) {
    const seedPort = await freePort();
    const seed = `tcp://${actors.hostOf('a')}:${seedPort}`;
    const starts = [actors.start('a', dirOf('a'), [], seedPort), actors.start('b', dirOf('b'), [seed]), actors.start('c', dirOf('c'), [seed])];
    const results = await Promise.allSettled(starts);
    if (results.every((r) => r.status === 'fulfilled')) return actors.get('a');
    await actors.closeAll();
    if (attempt >= 3) throw (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
  }
}

async function waitAllAlive(admin: StoreClient, actors: ActorSet, timeoutMs: number): Promise<void> {
  const n = actors.members().length;
  await until(
    `all ${n} members alive with a write lease in every member's view`,
    async () => {
      for (const x of actors.members()) {
        const v = await members(admin, x.ep, 1000).catch(() => null);
        if (!v || !v.lease || v.members.filter((m) => m.state === 'alive').length !== n) return false;
      }
      return true;
    },
    timeoutMs,
    100,
  );
}

/** Polls every actor's `stats` until no owned fork is fenced; returns what is still fenced at the deadline. */
async function waitUnfenced(admin: StoreClient, actors: ActorSet, timeoutMs: number): Promise<{ actor: string; fork: string }[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const fenced: { actor: string; fork: string }[] = [];
    for (const x of actors.members()) {
      const rep = await admin.raw(x.ep, 'stats', ADMIN_COMMANDS.stats.encodeRequest({}), 2000).catch(() => null);
      if (!rep || rep.code !== 'OK') {
        fenced.push({ actor: x.id, fork: '(stats unanswered)' });
        continue;
      }
      for (const f of ADMIN_COMMANDS.stats.decodeReply(rep.body).forks) if (f.fenced) fenced.push({ actor: x.id, fork: f.fork });
    }
    if (!fenced.length || performance.now() > deadline) return fenced;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every key of the layout; a key whose read fails even with retries is undefined (unreadable). */
async function finalValues(client: StoreClient, layout: KeyLayout): Promise<FinalValues> {
  const readAll = async (keys: Buffer[]): Promise<{ ok: boolean; v: Value }[]> => {
    try {
      return (await client.multiGet(keys)).map((v) => ({ ok: true, v }));
    } catch {
      // One unreachable fork fails the multi-get: read key by key so the others still count.
      return Promise.all(keys.map((k) => client.get(k).then((v) => ({ ok: true, v }), () => ({ ok: false, v: undefined }))));
    }
  };
  const sets = await readAll(Array.from({ length: layout.setKeys }, (_, k) => layout.setKey(k)));
  const counters = await readAll(Array.from({ length: layout.counterKeys }, (_, k) => layout.counterKey(k)));
  const filler: (number | undefined)[] = [];
  for (let ctx = 0; ctx < layout.contexts; ctx++) {
    let n = 0;
    try {
      for await (const _ of client.scan(layout.fillerPrefix(ctx), { keysOnly: true, pageSize: 5000 })) n++;
      filler.push(n);
    } catch {
      filler.push(undefined);
    }
  }
  return {
    sets: sets.map((r, k) => (r.ok ? setSeqOf(k, r.v) : undefined)),
    counters: counters.map((r) => (r.ok ? counterOf(r.v) : undefined)),
    filler,
    fillerPerContext: layout.fillerPerContext,
  };
}
