// The fork map: which actor owns which fork, per epoch.
//
// Forks are the nodes of a trie over the 4 routing bytes of stored keys. A fork id is the lowercase
// hex of a leading part of those bytes ('3f', '3f00', ... up to 4 bytes); a fork covers every key
// whose routing bytes start with it. The live forks always tile the routing space exactly: one
// fork per routing value. Every entry carries the epoch of the change that produced it; epochs are
// allocated from the map version (max epoch) so a newer decision always has a larger epoch, and
// merging two maps keeps, for every routing value, the entry with the newest epoch.
//
// Maps are immutable: every change returns a new map.
import fs from 'node:fs';
import path from 'node:path';
import { decodeAs } from '../../schemas/command.js';
import { ForkMapType, ForkMapV1Type, type ForkEntry } from '../../schemas/fork_map.js';
import { ROUTING_BYTES } from '../protocol/keys.js';
import { fullEntry, sameEntry, termOf, tieOrder } from './fork_entry.js';

export type { ForkEntry };

/**
 * A persisted map starts with these bytes since entries carry replicas (issue 10); a file without
 * them is an older map (ForkMapV1Type), read as one without replicas. An older file cannot start
 * with them: its first bytes would be a version of 50 and a first block of 49 entries, which
 * cannot tile the 256 forks (avsc writes an array as one block).
 */
const MAP_FILE_MAGIC = Buffer.from('dbslm-forkmap-2\n');

const FORK_RE = /^(?:[0-9a-f]{2}){1,4}$/;

export function checkForkId(fork: string): void {
  if (!FORK_RE.test(fork)) throw new Error(`fork id ${JSON.stringify(fork)} is not 1-${ROUTING_BYTES} bytes of lowercase hex (e.g. 3f or 3f0a)`);
}

/** Numeric index of a fork: depth (bytes) * 2^32 + prefix value. */
function forkIndex(depth: number, value: number): number {
  return depth * 0x100000000 + value;
}
function indexOfFork(fork: string): number {
  return forkIndex(fork.length / 2, parseInt(fork, 16));
}

/** The routing-byte range [lo, hi) of a fork, as stored-key bounds (hi null = to the end). */
export function forkRange(fork: string): { lo: Buffer; hi: Buffer | null } {
  const lo = Buffer.from(fork, 'hex');
  const hi = Buffer.from(lo);
  for (let i = hi.length - 1; i >= 0; i--) {
    if (hi[i]! < 0xff) {
      hi[i] = hi[i]! + 1;
      return { lo, hi: hi.subarray(0, i + 1) };
    }
  }
  return { lo, hi: null };
}

/** True if `a` is `b` or an ancestor of `b` in the trie. */
export function covers(a: string, b: string): boolean {
  return b.startsWith(a);
}

export class ForkMap {
  private readonly byIndex = new Map<number, ForkEntry>();
  private readonly depths: number[];

  private constructor(
    readonly entries: ReadonlyMap<string, ForkEntry>,
    readonly version: number,
  ) {
    const ds = new Set<number>();
    for (const e of entries.values()) {
      this.byIndex.set(indexOfFork(e.fork), e);
      ds.add(e.fork.length / 2);
    }
    this.depths = [...ds].sort((a, b) => a - b);
  }

  /** 256 one-byte forks, all owned by `owner` at `epoch`. */
  static initial(owner: string, epoch = 1): ForkMap {
    return ForkMap.spread([owner], epoch);
  }

  /**
   * 256 one-byte forks at `epoch`, dealt round-robin to `owners` in fork order (fork i to
   * owners[i % n]): a fresh cluster whose members are known in advance starts spread, with no
   * moves (what moving the forks of `initial` one by one would end with, in one map).
   */
  static spread(owners: readonly string[], epoch = 1): ForkMap {
    if (owners.length === 0) throw new Error('a spread fork map needs at least one owner');
    const m = new Map<string, ForkEntry>();
    for (let i = 0; i < 256; i++) {
      const fork = i.toString(16).padStart(2, '0');
      m.set(fork, fullEntry({ fork, owner: owners[i % owners.length]!, epoch }));
    }
    return new ForkMap(m, epoch);
  }

  /** Build from entries; throws unless they tile the routing space exactly. */
  static fromEntries(entries: Iterable<ForkEntry>): ForkMap {
    const m = new Map<string, ForkEntry>();
    let version = 0;
    for (const e of entries) {
      checkForkId(e.fork);
      if (m.has(e.fork)) throw new Error(`fork map lists fork ${e.fork} twice`);
      m.set(e.fork, fullEntry(e));
      version = Math.max(version, e.epoch);
    }
    const map = new ForkMap(m, version);
    map.checkTiling();
    return map;
  }

  get size(): number {
    return this.entries.size;
  }

  get(fork: string): ForkEntry | undefined {
    return this.entries.get(fork);
  }

  /** The fork owning these routing bytes (the first 4 bytes of a stored key). */
  lookup(key: Uint8Array): ForkEntry {
    if (key.length < ROUTING_BYTES) throw new Error(`key of ${key.length} bytes is shorter than the ${ROUTING_BYTES} routing bytes`);
    const v = ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0;
    for (const d of this.depths) {
      const e = this.byIndex.get(forkIndex(d, Math.floor(v / 2 ** (8 * (ROUTING_BYTES - d)))));
      if (e) return e;
    }
    throw new Error('fork map does not cover these routing bytes (corrupt map)');
  }

  /**
   * The single fork holding every key that starts with `prefix`, or null when the prefix spans
   * several forks (it is shorter than the fork depth there).
   */
  forkOfPrefix(prefix: Uint8Array): ForkEntry | null {
    if (prefix.length >= ROUTING_BYTES) return this.lookup(prefix);
    const hex = Buffer.from(prefix).toString('hex');
    for (const e of this.entries.values()) if (covers(e.fork, hex)) return e;
    return null;
  }

  /** Forks whose range intersects keys starting with `prefix`. */
  forksUnder(prefix: Uint8Array): ForkEntry[] {
    const single = this.forkOfPrefix(prefix);
    if (single) return [single];
    const hex = Buffer.from(prefix).toString('hex');
    return [...this.entries.values()].filter((e) => e.fork.startsWith(hex));
  }

  forksOf(owner: string): ForkEntry[] {
    return [...this.entries.values()].filter((e) => e.owner === owner);
  }

  /** Give `fork` to `owner` with a fresh epoch (version + 1), without replicas (the new owner places them). */
  assign(fork: string, owner: string): ForkMap {
    if (!this.entries.has(fork)) throw new Error(`fork ${fork} is not in the map (version ${this.version})`);
    const epoch = this.version + 1;
    const m = new Map(this.entries);
    m.set(fork, fullEntry({ fork, owner, epoch }));
    return new ForkMap(m, epoch);
  }

  /**
   * (replication) Several entries' replicas or in-sync sets changed at once, each at epoch
   * version + 1, keeping their owners' terms (the owner's stream goes on). Forks no longer live
   * here are skipped.
   */
  withReplicaChanges(changes: readonly { fork: string; replicas: string[]; inSync: string[] }[]): ForkMap {
    const epoch = this.version + 1;
    const m = new Map(this.entries);
    for (const c of changes) {
      const e = m.get(c.fork);
      if (e) m.set(c.fork, fullEntry({ ...e, replicas: c.replicas, inSync: c.inSync, term: termOf(e), epoch }));
    }
    return new ForkMap(m, epoch);
  }

  /**
   * The map with one entry replaced as decided elsewhere (a cut-over, a takeover, a peer's news):
   * the entry keeps its own epoch. Throws when the fork is no longer live here (split or merged).
   */
  withEntry(entry: ForkEntry): ForkMap {
    if (!this.entries.has(entry.fork)) throw new Error(`fork ${entry.fork} is not a live fork of this map (version ${this.version}); it was split or merged`);
    const m = new Map(this.entries);
    m.set(entry.fork, fullEntry(entry));
    let version = 0;
    for (const e of m.values()) version = Math.max(version, e.epoch);
    return new ForkMap(m, version);
  }

  /** Replace `fork` by its 256 children, same owner, fresh epoch; the children start without replicas (new forks: the owner places and fills them). */
  split(fork: string): ForkMap {
    const e = this.entries.get(fork);
    if (!e) throw new Error(`fork ${fork} is not in the map (version ${this.version})`);
    if (fork.length / 2 >= ROUTING_BYTES) throw new Error(`fork ${fork} is already ${ROUTING_BYTES} bytes deep and cannot split`);
    const epoch = this.version + 1;
    const m = new Map(this.entries);
    m.delete(fork);
    for (let i = 0; i < 256; i++) {
      const child = fork + i.toString(16).padStart(2, '0');
      m.set(child, fullEntry({ fork: child, owner: e.owner, epoch }));
    }
    return new ForkMap(m, epoch);
  }

  /** Merge the 256 children of `parent` back into it; they must all exist and share one owner. The parent starts without replicas. */
  merge(parent: string): ForkMap {
    checkForkId(parent);
    const m = new Map(this.entries);
    let owner: string | undefined;
    for (let i = 0; i < 256; i++) {
      const child = parent + i.toString(16).padStart(2, '0');
      const e = m.get(child);
      if (!e) throw new Error(`cannot merge ${parent}: child ${child} is not a live fork (split it back or merge its children first)`);
      if (owner !== undefined && e.owner !== owner) throw new Error(`cannot merge ${parent}: children are owned by ${owner} and ${e.owner}; move them to one owner first`);
      owner = e.owner;
      m.delete(child);
    }
    const epoch = this.version + 1;
    m.set(parent, fullEntry({ fork: parent, owner: owner!, epoch }));
    return new ForkMap(m, epoch);
  }

  /**
   * Combine two views of the map: for every routing value the entry with the newest epoch wins.
   * An entry that loses only part of its range to newer descendants is kept for the rest, as its
   * children, so the result still tiles the space. Equal epochs on the same fork break ties
   * (tieOrder) so every member computes the same result.
   */
  static mergeMaps(a: ForkMap, b: ForkMap): ForkMap {
    const all: ForkEntry[] = [...a.entries.values(), ...b.entries.values()];
    all.sort((x, y) => y.epoch - x.epoch || x.fork.length - y.fork.length || tieOrder(x, y));
    const accepted = new Map<string, ForkEntry>();
    const place = (e: ForkEntry): void => {
      if (accepted.has(e.fork)) return;
      for (let d = 2; d < e.fork.length; d += 2) if (accepted.has(e.fork.slice(0, d))) return; // a newer ancestor owns it all
      let newerBelow = false;
      for (const k of accepted.keys()) if (k.length > e.fork.length && k.startsWith(e.fork)) { newerBelow = true; break; }
      if (!newerBelow) {
        accepted.set(e.fork, e);
        return;
      }
      for (let i = 0; i < 256; i++) place({ ...e, fork: e.fork + i.toString(16).padStart(2, '0') });
    };
    for (const e of all) place(e);
    return ForkMap.fromEntries(accepted.values());
  }

  /** Throws unless the entries tile the routing space exactly. */
  checkTiling(): void {
    // Count covered routing values per depth as fractions of the space: they must sum to 1 with no overlap.
    let total = 0;
    for (const e of this.entries.values()) {
      for (let d = 2; d < e.fork.length; d += 2) {
        if (this.entries.has(e.fork.slice(0, d))) throw new Error(`fork map has both ${e.fork.slice(0, d)} and its descendant ${e.fork}`);
      }
      total += 2 ** (8 * (ROUTING_BYTES - e.fork.length / 2));
    }
    if (total !== 2 ** (8 * ROUTING_BYTES)) throw new Error(`fork map covers ${total} of ${2 ** 32} routing values; it must cover all exactly once`);
  }

  equals(other: ForkMap): boolean {
    if (other.version !== this.version || other.size !== this.size) return false;
    for (const [k, e] of this.entries) {
      const o = other.entries.get(k);
      if (!o || !sameEntry(o, e)) return false;
    }
    return true;
  }

  toJSON(): { version: number; entries: ForkEntry[] } {
    return { version: this.version, entries: [...this.entries.values()].sort((x, y) => (x.fork < y.fork ? -1 : 1)) };
  }

  encode(): Buffer {
    return ForkMapType.toBuffer(this.toJSON());
  }

  /** The map as persisted: the magic of this format, then the encoding. */
  encodeFile(): Buffer {
    return Buffer.concat([MAP_FILE_MAGIC, this.encode()]);
  }

  /** A persisted map, of this format or of an older one (no replicas). */
  static decodeFile(buf: Buffer): ForkMap {
    if (buf.subarray(0, MAP_FILE_MAGIC.length).equals(MAP_FILE_MAGIC)) return ForkMap.decode(buf.subarray(MAP_FILE_MAGIC.length));
    return ForkMap.decode(buf, ForkMapV1Type);
  }

  static decode(buf: Buffer, type = ForkMapType): ForkMap {
    const v = decodeAs<{ version: number; entries: ForkEntry[] }>(type, buf, 'fork map'); // bounded: a corrupt count cannot make it allocate
    const m = ForkMap.fromEntries(v.entries);
    if (m.version !== v.version) throw new Error(`fork map says version ${v.version} but its newest entry has epoch ${m.version}`);
    return m;
  }

  /** Write atomically: temp file, fsync, rename, fsync the directory. */
  persist(file: string): void {
    const tmp = `${file}.tmp-${process.pid}`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, this.encodeFile());
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    const dfd = fs.openSync(path.dirname(file), 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  }

  /** Load a persisted map, or null if the file does not exist. */
  static load(file: string): ForkMap | null {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      return ForkMap.decodeFile(buf);
    } catch (err) {
      throw new Error(`fork map file ${file} is unreadable (${(err as Error).message}); restore it from another member or delete it to rejoin`);
    }
  }
}
