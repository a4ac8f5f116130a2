// The fault injector of one run: episodes, one after another until the run's deadline. Each episode starts a
// move of a hot fork to another member (the `move` command, mostly sent to the source) and, at a random moment of
// the move or right at its cut-over (once the source fences the fork), injects one fault (fault_actions.ts). Moves
// are not awaited (one stuck on a dead peer would eat the run); each has its own timeout.
// Every random draw of an episode is taken up front in a fixed order, so a seed replays the same choices; what
// they meet (which actor owns a fork, whether the move is still running) depends on timing.
import { CLUSTER_COMMANDS } from '../../schemas/cluster.js';
import { MOVE_COMMANDS } from '../../schemas/moves.js';
import { STORE_COMMANDS } from '../../schemas/store.js';
import { StoreReplyError, type StoreClient } from '../../store/client/client.js';
import { members } from './cluster_procs.js';
import type { ActorSet } from './fault_actors.js';
import type { SmallDisk } from './fault_disk.js';
import type { FaultNetwork } from './fault_network.js';
import { applyFault, CUTOVER_ONLY, FAULT_WEIGHTS, type FaultKind } from './fault_actions.js';

export type { FaultKind };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MOVE_TIMEOUT_MS = Number(process.env.FAULT_MOVE_TIMEOUT_MS ?? 20000);
/** How long a kill-permanent waits for every fork to have its in-sync replicas again. */
const FULL_REPLICATION_WAIT_MS = 8000;

export interface InjectorOptions {
  actors: ActorSet;
  admin: StoreClient;
  rng: () => number;
  hotForks: string[];
  deadAfterMs: number;
  disk: { actor: string; disk: SmallDisk } | null;
  /** The run's own network, when partitions are possible. */
  network: FaultNetwork | null;
  /** Each fork's copies (1: no replicas, so no member may be lost for good). */
  replicas: number;
  /** Only these kinds (default: all; 'disk-full' only with a small disk). */
  kinds?: FaultKind[];
  /** A key prefix inside `fork` that no key has (for the fence probe). */
  probePrefix: (fork: string) => Buffer;
  log: (line: string) => void;
}

export class FaultInjector {
  /** Faults injected, by kind (skipped ones, e.g. a victim already dead, are not counted). */
  readonly injected: Record<string, number> = {};
  /** Faults that hit while their episode's move was still running. */
  duringMove = 0;
  /** Move outcomes by reply code (`timeout` when no reply came). */
  readonly moves: Record<string, number> = {};
  /** Actors found dead by themselves (crashed) and restarted by the injector. */
  crashRestarts = 0;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly o: InjectorOptions) {}

  /** Episodes until `untilMs` (performance.now) or `maxEpisodes`. */
  async run(untilMs: number, maxEpisodes: number): Promise<void> {
    for (let i = 0; i < maxEpisodes && performance.now() < untilMs; i++) await this.episode(i);
  }

  /** Waits up to `maxMs` for the moves still running. */
  async settle(maxMs: number): Promise<void> {
    await Promise.race([Promise.all([...this.running]), sleep(maxMs)]);
  }

  private pickKind(u: number): FaultKind {
    const possible = (k: FaultKind) => (k !== 'disk-full' || this.o.disk) && (!k.startsWith('partition-') || this.o.network) && (k !== 'kill-permanent' || this.o.replicas > 1);
    const weights = FAULT_WEIGHTS.filter(([k]) => possible(k) && (!this.o.kinds || this.o.kinds.includes(k)));
    let x = u * weights.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of weights) if ((x -= w) < 0) return k;
    return 'none';
  }

  private async episode(i: number): Promise<void> {
    const { actors, rng } = this.o;
    const draw = { kind: rng(), fork: rng(), target: rng(), via: rng(), phase: rng(), delay: rng(), hold: rng(), gap: rng(), extra: rng() };
    for (const a of actors.members()) {
      if (a.state === 'dead') {
        this.o.log(`episode ${i}: ${a.id} died by itself; restarting it`);
        this.crashRestarts++;
        await actors.restart(a.id).catch((err) => this.o.log(`restart of ${a.id} failed: ${(err as Error).message}`));
      }
    }
    const kind = this.pickKind(draw.kind);
    const fork = this.o.hotForks[Math.floor(draw.fork * this.o.hotForks.length)]!;
    const source = await this.ownerOf(fork);
    const others = actors.members().filter((a) => a.id !== source);
    // A full disk matters most on the receiving end of a move (chunk imports), so that fault moves the fork there.
    const diskTarget = kind === 'disk-full' && this.o.disk && this.o.disk.actor !== source ? this.o.disk.actor : undefined;
    const target = diskTarget ?? others[Math.floor(draw.target * others.length)]!.id;
    // Mostly sent to the source itself, so its reply tells the move's outcome; now and then through another member,
    // which forwards it (and whose death then hides the outcome).
    const vias = actors.up();
    const direct = source ? vias.find((a) => a.id === source) : undefined;
    const via = direct && draw.via < 0.75 ? direct : vias.length ? vias[Math.floor(draw.via * vias.length)]! : null;
    let moving = false;
    if (via && source) {
      moving = true;
      const p = this.move(via.ep, fork, target).finally(() => {
        moving = false;
        this.running.delete(p);
      });
      this.running.add(p);
    }
    // Half the faults hit the cut-over: once the source fences the fork (seen by a probe), within a few ms. The
    // others hit a random moment of the snapshot and tail rounds (or just after a quick move).
    const cutoverOnly = CUTOVER_ONLY.includes(kind);
    const atCutover = (draw.phase < 0.5 || cutoverOnly) && moving && source !== undefined;
    // A cut-over-only fault needs the fence itself (not the move's end, nor a cut-over already done).
    let fenceSeen = false;
    if (atCutover) {
      fenceSeen = (await this.untilFenced(actors.get(source).ep, fork, () => moving)) === 'fenced';
      if (!cutoverOnly) await sleep(draw.delay * 15);
    } else await sleep(draw.delay * 500);
    const label = `${kind}${atCutover && !cutoverOnly ? '@cutover' : ''}`;
    const what = `${label}, move of ${fork} ${source ?? '?'}->${target}${moving ? '' : ' (move already over)'}`;
    const injectedDuringMove = moving;
    const done =
      (!cutoverOnly || fenceSeen) &&
      (await applyFault(kind, {
        actors,
        fork,
        source,
        target,
        third: actors.list().find((a) => a.id !== source && a.id !== target)?.id,
        hold: draw.hold,
        extra: draw.extra,
        deadAfterMs: this.o.deadAfterMs,
        disk: this.o.disk,
        network: this.o.network,
        ownerSeenBy: (id, f) => this.ownerSeenBy(id, f),
        fullyReplicated: () => this.fullyReplicated(FULL_REPLICATION_WAIT_MS),
        log: (line) => this.o.log(`episode ${i}: ${line} (${what})`),
      }));
    if (!done) this.o.log(`episode ${i}: no fault (${what})`);
    else {
      this.injected[label] = (this.injected[label] ?? 0) + 1;
      if (injectedDuringMove) this.duringMove++;
    }
    await sleep(50 + draw.gap * 300);
  }

  /**
   * Polls the source with a write that touches no row (a purge of a prefix no key has, inside the fork) until it
   * answers FENCED for the move ('fenced'), or MOVED ('moved': the cut-over is done), or the move ended; at most 5 s.
   */
  private async untilFenced(sourceEp: string, fork: string, moving: () => boolean): Promise<'fenced' | 'moved' | 'ended'> {
    const body = STORE_COMMANDS.purge.encodeRequest({ prefix: this.o.probePrefix(fork) });
    const deadline = performance.now() + 5000;
    while (moving() && performance.now() < deadline) {
      const rep = await this.o.admin.raw(sourceEp, 'purge', body, 500).catch(() => null);
      if (rep?.code === 'MOVED') return 'moved';
      if (rep?.code === 'FENCED' && /fenced for a move/.test(rep.message)) return 'fenced';
      await sleep(2);
    }
    return 'ended';
  }

  /** The fork's owner in one member's own map (`members` reply), or undefined if it does not answer. */
  private async ownerSeenBy(id: string, fork: string): Promise<string | undefined> {
    const rep = await this.o.admin.raw(this.o.actors.get(id).ep, 'members', CLUSTER_COMMANDS.members.encodeRequest({}), 300).catch(() => null);
    if (!rep || rep.code !== 'OK') return undefined;
    return CLUSTER_COMMANDS.members.decodeReply(rep.body).forks.find((f) => f.fork === fork)?.owner;
  }

  /** Polls every live member's map until each gives every fork R - 1 in-sync replicas (true), or `maxMs` passed (false). */
  private async fullyReplicated(maxMs: number): Promise<boolean> {
    const want = this.o.replicas - 1;
    const deadline = performance.now() + maxMs;
    do {
      const views = await Promise.all(this.o.actors.up().map((a) => members(this.o.admin, a.ep, 500).catch(() => null)));
      if (views.length && views.every((v) => v && v.forks.every((f) => (f.inSync ?? []).length >= want))) return true;
      await sleep(100);
    } while (performance.now() < deadline);
    return false;
  }

  /** The fork's owner by the freshest map any live member gives (the admin client's cache as a fallback). */
  private async ownerOf(fork: string): Promise<string | undefined> {
    for (const a of this.o.actors.up()) {
      try {
        await this.o.admin.refreshMap(a.ep);
        break;
      } catch {
        // try the next member
      }
    }
    const owner = this.o.admin.map.get(fork)?.owner;
    return owner || undefined;
  }

  private async move(ep: string, fork: string, to: string): Promise<void> {
    const started = performance.now();
    let code: string;
    let detail = '';
    try {
      const rep = await this.o.admin.raw(ep, 'move', MOVE_COMMANDS.move.encodeRequest({ fork, to, force: false, hops: 0 }), MOVE_TIMEOUT_MS);
      code = rep.code;
      if (rep.code === 'OK') {
        const r = MOVE_COMMANDS.move.decodeReply(rep.body);
        detail = `${r.from}->${r.to} epoch ${r.epoch}, ${r.keys} rows, ${r.rounds} rounds`;
      } else detail = rep.message;
    } catch (err) {
      code = err instanceof StoreReplyError ? err.code : 'timeout';
      detail = (err as Error).message;
    }
    this.moves[code] = (this.moves[code] ?? 0) + 1;
    this.o.log(`move ${fork} -> ${to}: ${code} after ${Math.round(performance.now() - started)} ms: ${detail}`);
  }
}
