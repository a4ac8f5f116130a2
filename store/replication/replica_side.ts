// A member's side as a replica (issue 10): the `repl-apply` and `repl-snapshot` commands, which run
// the pure machine of replica_apply.ts per fork against the actor's import hooks (the ones live
// moves use: fork_transfer.ts). A fork's changes are applied in the owner's order, each once, and
// acknowledged only after this member committed them; a fork this member has no place in (new,
// restarted, or told to start over) asks for a snapshot, which replaces whatever it held of it.
//
// The place (term, last sequence applied) is also stored in the member's database
// (replica_places.ts, in the group that applies those changes), so a restarted replica keeps its
// place: it goes on from it, and a failover may promote it.
import { REPLICATION_COMMANDS, type ReplItem, type ReplResult } from '../../schemas/replication.js';
import type { StoreActor } from '../actor/actor.js';
import { termOf } from '../map/fork_entry.js';
import { StoreError } from '../protocol/errors.js';
import { ReplicaApply } from './replica_apply.js';
import { ReplicaPlaces } from './replica_places.js';

const applyCommand = REPLICATION_COMMANDS['repl-apply'];
const snapshotCommand = REPLICATION_COMMANDS['repl-snapshot'];

export class ReplicaSide {
  private readonly places = new Map<string, ReplicaApply>();
  /** When this member last applied a change of each fork (or installed its snapshot), for replica reads. */
  private readonly lastApplied = new Map<string, number>();
  /** Forks whose snapshot is being installed here: their rows are neither the old ones nor the owner's yet. */
  private readonly filling = new Set<string>();
  private readonly stored: ReplicaPlaces;

  constructor(private readonly actor: StoreActor) {
    this.stored = new ReplicaPlaces(actor);
  }

  register(): void {
    for (const p of this.stored.load()) {
      // Left by a promotion whose release had not committed when this member stopped: as owner it
      // must not number its stream from that place again (its replicas may hold later numbers).
      if (this.actor.map.get(p.fork)?.owner === this.actor.id) this.stored.remove(p.fork);
      else this.places.set(p.fork, new ReplicaApply(p.term, p.seq));
    }
    this.actor.registerCommand('repl-apply', (body) => this.apply(body));
    this.actor.registerCommand('repl-snapshot', (body) => this.snapshot(body));
    this.actor.onMapChange(() => this.observeMap());
    this.observeMap();
  }

  /** The last sequence applied here of `fork`, if this member holds a place in its stream. */
  applied(fork: string): { term: number; seq: number } | undefined {
    const place = this.places.get(fork);
    return place && { term: place.epoch, seq: place.applied };
  }

  /**
   * This member handed `fork` over to one of its in-sync replicas and stays on as a replica (a handover,
   * store/cluster/moves/handover.ts): its rows are the stream's changes up to `seq` of `term`, the fork having been
   * fenced from there on. Nothing is taken if the map does not list it as a replica, or if it holds a place or a
   * snapshot of the fork already (those rows are newer, or half replaced).
   */
  adoptPlace(fork: string, term: number, seq: number): void {
    const entry = this.actor.map.get(fork);
    if (!entry || entry.owner === this.actor.id || !(entry.replicas ?? []).includes(this.actor.id)) return;
    if (this.places.has(fork) || this.filling.has(fork)) return;
    const place = new ReplicaApply(term, seq);
    place.epochObserved(termOf(entry));
    this.places.set(fork, place);
    try {
      this.stored.save(fork, term, seq);
    } catch (err) {
      // Kept in memory only: after a restart this member asks for a snapshot (a handover's cut-over must not fail here).
      process.stderr.write(`store actor ${this.actor.id}: place of fork ${fork} not stored: ${(err as Error).message}\n`);
    }
  }

  /** Milliseconds since this member last applied a change of `fork` as its replica; -1: none since it started. */
  sinceApplied(fork: string): number {
    const at = this.lastApplied.get(fork);
    return at === undefined ? -1 : Math.round(performance.now() - at);
  }

  /** This member took the fork over (or left its replicas): its stream as a replica ends. */
  release(fork: string): void {
    if (this.places.delete(fork)) this.stored.remove(fork);
  }

  private async apply(body: Buffer): Promise<Buffer> {
    const { items } = applyCommand.decodeRequest(body);
    const results = new Map<string, ReplResult>();
    const imports: Promise<void>[] = [];
    /** Per fork, the machine its imports here went through (a snapshot may replace it before these commit). */
    const applying = new Map<string, ReplicaApply>();
    for (const item of items) {
      const { result, imported } = this.applyItem(item);
      if (imported) {
        imports.push(imported);
        applying.set(item.fork, this.places.get(item.fork)!);
      }
      results.set(item.fork, result);
    }
    try {
      await Promise.all(imports);
    } catch (err) {
      // An import failed (its rows and place undone, or the whole group's): these forks start over from a snapshot.
      for (const fork of applying.keys()) this.places.delete(fork);
      throw err;
    }
    for (const [fork, place] of applying) if (this.places.get(fork) === place) this.lastApplied.set(fork, performance.now());
    return applyCommand.encodeReply({ results: [...results.values()] });
  }

  /** One item through the fork's machine: the result to report, and its import when it is applied. */
  private applyItem(item: ReplItem): { result: ReplResult; imported?: Promise<void> } {
    const { fork, term, seq } = item;
    const entry = this.actor.map.get(fork);
    // This member owns the fork (a failover it took part in): the sender is an older owner.
    if (entry && entry.owner === this.actor.id && termOf(entry) >= term) return { result: { fork, acked: -1, need: 'REFUSED', from: 0, term: termOf(entry) } };
    const place = this.places.get(fork);
    if (!place) return { result: { fork, acked: -1, need: 'SNAPSHOT', from: 0, term } };
    const result: ReplResult = { fork, acked: place.applied, need: 'NONE', from: 0, term };
    let imported: Promise<void> | undefined;
    for (const action of place.receive({ epoch: term, first: seq, count: 1, base: item.base >= 0 ? item.base : undefined })) {
      // The place commits with the rows, under their savepoint: the changes are deltas, to be applied once.
      if (action.kind === 'apply') imported = this.actor.importChunk(item.chunk, () => this.stored.save(fork, place.term, seq));
      else if (action.kind === 'ack') result.acked = action.upTo;
      else if (action.kind === 'tail') Object.assign(result, { need: 'TAIL', from: action.from });
      else if (action.kind === 'refuse') Object.assign(result, { need: 'REFUSED', term: action.epoch });
      else {
        this.release(fork);
        result.need = 'SNAPSHOT';
      }
    }
    return { result, imported };
  }

  private async snapshot(body: Buffer): Promise<Buffer> {
    const req = snapshotCommand.decodeRequest(body);
    const { fork, term } = req;
    const entry = this.actor.map.get(fork);
    if (!entry) throw new StoreError('BAD_REQUEST', `repl-snapshot: fork ${fork} is not a live fork here (map version ${this.actor.map.version})`);
    const known = this.places.get(fork);
    const newest = Math.max(known?.epoch ?? 0, entry.owner === this.actor.id ? termOf(entry) : 0);
    if (term < newest) return snapshotCommand.encodeReply({ fork, acked: -1, need: 'REFUSED', from: 0, term: newest });
    // Not (or no longer) a replica of the fork here: the rows may be a move's import, which a snapshot's drop would wipe.
    if (!(entry.replicas ?? []).includes(this.actor.id)) return snapshotCommand.encodeReply({ fork, acked: -1, need: 'REFUSED', from: 0, term: Math.max(newest, termOf(entry)) });
    if (req.first) {
      this.filling.add(fork);
      this.places.delete(fork);
      this.stored.remove(fork); // in the group that drops the rows, before them
      // Rows of an older place may include writes the new owner never had: the snapshot replaces them all.
      void this.actor.dropFork(fork).catch(() => undefined); // its failure fails the import below too (one group)
    }
    await this.actor.importChunk(req.chunk, req.chunk.done ? () => this.stored.save(fork, term, req.upTo) : undefined);
    if (req.chunk.done) {
      this.filling.delete(fork);
      this.lastApplied.set(fork, performance.now());
      this.places.set(fork, new ReplicaApply(term, req.upTo));
    }
    return snapshotCommand.encodeReply({ fork, acked: req.chunk.done ? req.upTo : -1, need: 'NONE', from: 0, term });
  }

  /** Newer terms seen on the map refuse older owners; places of forks this member no longer replicates end. */
  private observeMap(): void {
    for (const [fork, place] of this.places) {
      const entry = this.actor.map.get(fork);
      if (!entry || !(entry.replicas ?? []).includes(this.actor.id)) {
        if (entry?.owner !== this.actor.id) this.release(fork);
        continue;
      }
      place.epochObserved(termOf(entry));
    }
  }
}
