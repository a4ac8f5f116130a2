// SWIM gossip over ZeroMQ: carries store/cluster/swim.ts messages as the `gossip` command of the store envelope, so a
// peer is reached on the same endpoint as its clients, merges the fork maps that ride on them, and feeds the write
// lease (store/cluster/lease.ts) what SWIM observes.
import fs from 'node:fs';
import path from 'node:path';
import { CLUSTER_COMMANDS, type GossipMessage } from '../../schemas/cluster.js';
import type { ForkEntry, MemberState, MemberUpdate } from '../../schemas/fork_map.js';
import { ForkMap } from '../map/fork_map.js';
import { checkGossipMessage } from './gossip_check.js';
import { Swim, mapDigest, systemClock, type Member } from './swim.js';
import type { WriteLease } from './lease.js';
import type { PeerLink } from '../client/peer_link.js';

const gossipCommand = CLUSTER_COMMANDS.gossip;

/** What gossip needs from the actor: its map (null before a joining actor learned one) and a way to merge into it. */
export interface MapHost {
  readonly id: string;
  readonly endpoint: string;
  currentMap(): ForkMap | null;
  /** Adopt a merged map (newest epoch per fork already chosen); `source` names the peer it came from. */
  adoptMap(map: ForkMap, source: string): void;
}

export interface GossipOptions { deadAfterMs?: number; seeds: string[]; dataDir: string }

export class Gossip {
  readonly swim: Swim;
  onMember: (m: Member) => void = () => {};
  private digestOf: { map: ForkMap | null; digest: string } = { map: null, digest: mapDigest([]) };
  private joinTimer: NodeJS.Timeout | null = null;
  private readonly membersFile: string;

  constructor(private readonly host: MapHost, private readonly link: PeerLink, readonly lease: WriteLease, private readonly opts: GossipOptions) {
    this.membersFile = path.join(opts.dataDir, 'members.json');
    const view = {
      entries: (): ForkEntry[] => [...(host.currentMap()?.entries.values() ?? [])],
      digest: (): string => {
        const m = host.currentMap();
        if (m !== this.digestOf.map) this.digestOf = { map: m, digest: mapDigest([...(m?.entries.values() ?? [])]) };
        return this.digestOf.digest;
      },
      merge: (entries: ForkEntry[]): void => this.merge(entries, 'gossip'),
    };
    const transport = { send: (endpoint: string, msg: GossipMessage) => void this.send(endpoint, msg) };
    this.swim = new Swim({ id: host.id, endpoint: host.endpoint, deadAfterMs: opts.deadAfterMs }, view, transport, systemClock, lease);
    this.swim.onChange = (m) => {
      this.saveMembers(m.state === 'left');
      this.onMember(m);
    };
  }

  /** Joins through the seeds and the members remembered from the last run, retrying until someone answers. */
  start(): void {
    const { known, forgotten } = this.loadMembers();
    // Forgotten members stay forgotten across a restart, and are no seeds even if named by --join.
    for (const m of forgotten) this.swim.forget(m);
    const gone = new Set(forgotten.map((m) => m.endpoint));
    const seeds = [...new Set([...this.opts.seeds, ...known])].filter((e) => e !== this.host.endpoint && !gone.has(e));
    // A restarted member must not believe it is alone: until it hears from a peer it holds no write lease.
    if (seeds.length > 0) this.lease.expectPeers = true;
    const tryJoin = () => {
      if (this.swim.alivePeers().length > 0 || seeds.length === 0) return;
      this.swim.join(seeds);
      this.joinTimer = setTimeout(tryJoin, 300);
      this.joinTimer.unref();
    };
    tryJoin();
    this.swim.start();
  }

  stop(): void {
    this.swim.stop();
    if (this.joinTimer) clearTimeout(this.joinTimer);
  }

  /** The `gossip` command handler: one message in, the direct reply (or NONE) out. */
  handle(body: Buffer): Buffer {
    const msg = gossipCommand.decodeRequest(body);
    checkGossipMessage(msg);
    const reply = this.swim.receive(msg);
    return gossipCommand.encodeReply(reply ?? { ...msg, kind: 'NONE', from: this.host.id, fromEndpoint: this.host.endpoint, updates: [], forks: [] });
  }

  members(): Member[] { return this.swim.list(); }

  endpointOf(id: string): string | undefined { return this.swim.get(id)?.endpoint; }

  /** Forgets a member for good (`dbslm store forget`); members.json keeps it so across a restart. */
  forget(id: string): void { this.swim.forget({ id }); }

  /** A member's state as this member sees it; undefined for one it never heard of. */
  memberState(id: string): MemberState | undefined { return this.swim.get(id)?.state; }

  /** Endpoints of the peers held alive or suspect: the ones worth telling of a map change. */
  alivePeerEndpoints(): string[] { return this.swim.alivePeers().map((m) => m.endpoint); }

  /** Merges entries (newest epoch per fork wins) and hands a changed map to the actor. */
  merge(entries: ForkEntry[], source: string): void {
    let incoming: ForkMap;
    try {
      incoming = ForkMap.fromEntries(entries);
    } catch {
      return; // a peer's partial or corrupt map is ignored; the next full map will do
    }
    const cur = this.host.currentMap();
    const merged = cur ? ForkMap.mergeMaps(cur, incoming) : incoming;
    if (!cur || !merged.equals(cur)) this.host.adoptMap(merged, source);
  }

  private async send(endpoint: string, msg: GossipMessage): Promise<void> {
    const rep = await this.link.tryRequest(endpoint, 'gossip', gossipCommand.encodeRequest(msg), Math.max(200, this.swim.deadAfterMs));
    if (!rep || rep.code !== 'OK') return;
    try {
      const back = gossipCommand.decodeReply(rep.body);
      checkGossipMessage(back);
      if (back.kind !== 'NONE') this.swim.receive(back);
      else this.swim.receiveRefusal(back);
    } catch {
      // an undecodable or malformed reply is a lost message to SWIM
    }
  }

  /**
   * Endpoints of the members known before a restart, and the members forgotten (`left`); the incarnation resumes above
   * the last one used.
   */
  private loadMembers(): { known: string[]; forgotten: MemberUpdate[] } {
    let saved: { incarnation: number; members: MemberUpdate[] };
    try {
      saved = JSON.parse(fs.readFileSync(this.membersFile, 'utf8')) as typeof saved;
    } catch {
      return { known: [], forgotten: [] };
    }
    this.swim.incarnation = saved.incarnation + 1;
    return { known: saved.members.filter((m) => m.state !== 'left').map((m) => m.endpoint), forgotten: saved.members.filter((m) => m.state === 'left') };
  }

  /**
   * Written on every member change; a forgotten member must stay forgotten after a restart, so that one is written
   * durably (temp file, fsync, rename), the others best effort (the seeds still work).
   */
  private saveMembers(durable: boolean): void {
    const members = this.swim.list().filter((m) => m.id !== this.host.id).map(({ id, endpoint, incarnation, state }) => ({ id, endpoint, incarnation, state }));
    try {
      writeFileAtomically(this.membersFile, JSON.stringify({ incarnation: this.swim.incarnation, members }), durable);
    } catch (err) {
      if (durable) throw err;
    }
  }
}

/** Replace `file` whole (temp file, rename), fsynced first when `durable`: a crash leaves the old list or the new one. */
function writeFileAtomically(file: string, text: string, durable: boolean): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    if (durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
