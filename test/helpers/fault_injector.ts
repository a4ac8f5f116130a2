// The fault injector of one run: episodes, one after another until the run's deadline. Each episode starts a
// move of a hot fork to another member (the `move` command, mostly sent to the source) and, at a random moment
// shortly after or right at the cut-over (the source fencing the fork), injects one fault: kill -9 of the move's
// source or target (restarted on the same dir and port after a while), a restart of the target while the source is
// frozen (SIGSTOP), SIGSTOP of the source, the target or the third actor for about the dead-after bound, or filling
// the small disk. Moves are not awaited (one stuck on a dead peer would eat the run); each has its own timeout.
// Every random draw of an episode is taken up front in a fixed order, so a seed replays the same choices; what
// they meet (which actor owns a fork, whether the move is still running) depends on timing.
import { MOVE_COMMANDS } from '../../schemas/moves.js';
import { STORE_COMMANDS } from '../../schemas/store.js';
import { StoreReplyError, type StoreClient } from '../../store/client/client.js';
import type { ActorSet } from './fault_actors.js';
import type { SmallDisk } from './fault_disk.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MOVE_TIMEOUT_MS = Number(process.env.FAULT_MOVE_TIMEOUT_MS ?? 20000);

export type FaultKind = 'none' | 'kill-source' | 'kill-target' | 'restart-target-under-frozen-source' | 'freeze-source' | 'freeze-target' | 'freeze-other' | 'disk-full';
const WEIGHTS: [FaultKind, number][] = [
  ['none', 0.1],
  ['kill-source', 0.15],
  ['kill-target', 0.15],
  ['restart-target-under-frozen-source', 0.15],
  ['freeze-source', 0.12],
  ['freeze-target', 0.12],
  ['freeze-other', 0.06],
  ['disk-full', 0.15],
];

export interface InjectorOptions {
  actors: ActorSet;
  admin: StoreClient;
  rng: () => number;
  hotForks: string[];
  deadAfterMs: number;
  disk: { actor: string; disk: SmallDisk } | null;
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
    const weights = WEIGHTS.filter(([k]) => (k !== 'disk-full' || this.o.disk) && (!this.o.kinds || this.o.kinds.includes(k)));
    let x = u * weights.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of weights) if ((x -= w) < 0) return k;
    return 'none';
  }

  private async episode(i: number): Promise<void> {
    const { actors, rng } = this.o;
    const draw = { kind: rng(), fork: rng(), target: rng(), via: rng(), phase: rng(), delay: rng(), hold: rng(), gap: rng(), headroom: rng() };
    for (const a of actors.list()) {
      if (a.state === 'dead') {
        this.o.log(`episode ${i}: ${a.id} died by itself; restarting it`);
        this.crashRestarts++;
        await actors.restart(a.id).catch((err) => this.o.log(`restart of ${a.id} failed: ${(err as Error).message}`));
      }
    }
    const kind = this.pickKind(draw.kind);
    const fork = this.o.hotForks[Math.floor(draw.fork * this.o.hotForks.length)]!;
    const source = await this.ownerOf(fork);
    const others = actors.list().filter((a) => a.id !== source);
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
    const atCutover = draw.phase < 0.5 && moving && source !== undefined;
    if (atCutover) {
      await this.untilFenced(actors.get(source).ep, fork, () => moving);
      await sleep(draw.delay * 15);
    } else await sleep(draw.delay * 500);
    const third = actors.list().find((a) => a.id !== source && a.id !== target)?.id;
    const victim = kind.endsWith('source') ? source : kind.endsWith('target') ? target : kind === 'freeze-other' ? third : this.o.disk?.actor;
    const label = `${kind}${atCutover ? '@cutover' : ''}`;
    const what = `${label}, move of ${fork} ${source ?? '?'}->${target}${moving ? '' : ' (move already over)'}`;
    const injectedDuringMove = moving;
    let done = false;
    if (kind === 'restart-target-under-frozen-source' && source && actors.get(target).state === 'up' && actors.freeze(source)) {
      // The source stops between two chunk round trips (or with a reply on its way); the target restarts meanwhile,
      // so the source's next chunk reaches a fresh target process that knows nothing of the import.
      await sleep(100 + draw.headroom * 200);
      await actors.kill(target);
      this.o.log(`episode ${i}: SIGSTOP ${source}, kill -9 and restart ${target}, SIGCONT ${source} (${what})`);
      await sleep(draw.hold * 500);
      await actors.restart(target).catch((err) => this.o.log(`restart of ${target} failed: ${(err as Error).message}`));
      actors.thaw(source);
      done = true;
    } else if (kind.startsWith('kill') && victim && actors.get(victim).state !== 'dead') {
      await actors.kill(victim);
      this.o.log(`episode ${i}: kill -9 ${victim} (${what})`);
      await sleep(200 + draw.hold * 1300);
      await actors.restart(victim).catch((err) => this.o.log(`restart of ${victim} failed: ${(err as Error).message}`));
      done = true;
    } else if (kind.startsWith('freeze') && victim && actors.freeze(victim)) {
      const ms = this.o.deadAfterMs * (0.5 + draw.hold);
      this.o.log(`episode ${i}: SIGSTOP ${victim} for ${Math.round(ms)} ms (${what})`);
      await sleep(ms);
      actors.thaw(victim);
      done = true;
    } else if (kind === 'disk-full' && this.o.disk) {
      const bytes = this.o.disk.disk.fill(Math.floor(draw.headroom * 256 * 1024));
      this.o.log(`episode ${i}: filled ${this.o.disk.actor}'s disk with ${bytes} bytes of ballast (${what})`);
      // Short: the disk frees up again within the move, so a chunk import that failed is followed by a cut-over that
      // succeeds (what a failed commit acknowledged as an import would then lose).
      await sleep(50 + draw.hold * 600);
      this.o.disk.disk.freeBallast();
      done = true;
    }
    if (!done) this.o.log(`episode ${i}: no fault (${what})`);
    else {
      this.injected[label] = (this.injected[label] ?? 0) + 1;
      if (injectedDuringMove) this.duringMove++;
    }
    await sleep(50 + draw.gap * 300);
  }

  /**
   * Polls the source with a write that touches no row (a purge of a prefix no key has, inside the fork) until it
   * answers FENCED for the move, or MOVED (cut-over done), or the move ended; bounded to 5 s.
   */
  private async untilFenced(sourceEp: string, fork: string, moving: () => boolean): Promise<void> {
    const body = STORE_COMMANDS.purge.encodeRequest({ prefix: this.o.probePrefix(fork) });
    const deadline = performance.now() + 5000;
    while (moving() && performance.now() < deadline) {
      const rep = await this.o.admin.raw(sourceEp, 'purge', body, 500).catch(() => null);
      if (rep && (rep.code === 'MOVED' || (rep.code === 'FENCED' && /fenced for a move/.test(rep.message)))) return;
      await sleep(2);
    }
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
