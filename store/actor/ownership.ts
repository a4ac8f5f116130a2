// Which requests this actor may serve, by the forks their keys fall in: a fork owned elsewhere gets
// a MOVED redirect (the owner's id, endpoint and epoch), a write to a fenced fork a retryable
// FENCED, and a write or read the cluster layer's gates refuse (no lease) that gate's error. Every
// key passes the one size check of protocol/keys.ts first.
import type { ForkEntry } from '../../schemas/fork_map.js';
import type { ForkMap } from '../map/fork_map.js';
import { StoreError } from '../protocol/errors.js';
import { checkKeySize } from '../protocol/keys.js';
import type { ForkRates } from './fork_rates.js';

/** What ownership reads of its actor: its id, its current map (replaced on every change) and members' endpoints. */
export interface OwnerView {
  readonly id: string;
  readonly map: ForkMap;
  readonly members: ReadonlyMap<string, string>;
}

/** Consulted before every write: a StoreError refuses it (the cluster layer's write lease). */
export type WriteGate = (fork: string) => StoreError | null;
/**
 * Consulted once per read request (get, scan, reduce, summary), not per key, so reads stay cheap: a StoreError
 * refuses the whole read (the cluster layer's lease: an owner cut off from a quorum may have lost forks unawares).
 */
export type ReadGate = () => StoreError | null;

export class Ownership {
  writeGate: WriteGate | null = null;
  readGate: ReadGate | null = null;
  private readonly fenced = new Set<string>();

  constructor(
    private readonly actor: OwnerView,
    readonly maxKeyBytes: number,
    private readonly rates: ForkRates,
  ) {}

  fence(fork: string): void {
    this.fenced.add(fork);
  }
  unfence(fork: string): void {
    this.fenced.delete(fork);
  }
  isFenced(fork: string): boolean {
    return this.fenced.has(fork);
  }
  owns(fork: string): boolean {
    return this.actor.map.get(fork)?.owner === this.actor.id;
  }

  /** Refuse a read request (any of its keys) while the read gate does. */
  checkRead(): void {
    const refused = this.readGate?.();
    if (refused) throw refused;
  }

  /** The forks this actor owns, in fork id order. */
  ownedForks(): ForkEntry[] {
    return this.actor.map.forksOf(this.actor.id).sort((a, b) => (a.fork < b.fork ? -1 : 1));
  }

  /** Check a key of a request: size, ownership and (for writes) fencing and the write gate. Returns its fork. */
  route(key: Buffer, write: boolean): ForkEntry {
    checkKeySize(key, this.maxKeyBytes);
    return this.checkOwner(this.actor.map.lookup(key), write);
  }

  /** Refuse a request on fork `entry` unless this actor serves it now; counts one op on the fork. */
  checkOwner(entry: ForkEntry, write: boolean): ForkEntry {
    if (entry.owner !== this.actor.id) {
      const redirect = { fork: entry.fork, owner: entry.owner, endpoint: this.actor.members.get(entry.owner) ?? '', epoch: entry.epoch };
      throw new StoreError('MOVED', `fork ${entry.fork} is owned by ${entry.owner} (epoch ${entry.epoch})`, true, redirect);
    }
    if (write && this.fenced.has(entry.fork)) throw new StoreError('FENCED', `fork ${entry.fork} is fenced for a move; retry shortly`, true);
    if (write && this.writeGate) {
      const refused = this.writeGate(entry.fork);
      if (refused) throw refused;
    }
    this.rates.count(entry.fork);
    return entry;
  }

  /**
   * Check a key of a write that must stay within the fork `anchor` (a batch is atomic within one
   * fork): its size, then its fork. A key of another fork gets that fork's refusal if it has one
   * (MOVED, FENCED), else CROSS_FORK.
   */
  checkSameFork(anchor: ForkEntry, key: Buffer): void {
    checkKeySize(key, this.maxKeyBytes);
    const entry = this.actor.map.lookup(key);
    if (entry.fork === anchor.fork) return;
    this.checkOwner(entry, true);
    throw new StoreError('CROSS_FORK', `batch spans forks ${anchor.fork} and ${entry.fork}; a batch is atomic within one fork only`);
  }

  /** The single fork holding every key under `prefix` (sent with command `cmd`), if this actor serves it. */
  prefixFork(prefix: Buffer, cmd: string, write: boolean): ForkEntry {
    checkKeySize(prefix, this.maxKeyBytes, cmd);
    const entry = this.actor.map.forkOfPrefix(prefix);
    if (!entry) throw new StoreError('CROSS_FORK', `${cmd} prefix 0x${prefix.toString('hex')} spans ${this.actor.map.forksUnder(prefix).length} forks; send one ${cmd} per fork (prefix = fork bytes)`);
    return this.checkOwner(entry, write);
  }
}
