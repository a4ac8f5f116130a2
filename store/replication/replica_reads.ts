// Reads served by a replica (issue 10, `--read-from replica`): `repl-get` answers keys of one fork from this member's
// rows when its map lists it in the fork's in-sync set and it holds its place in the owner's stream, with that place
// and the time since it last applied a change of the fork, so the caller knows how stale the answer may be. An
// in-sync replica has every write its owner acknowledged while the replica was in the set; one dropped from it answers
// until it learns so, within about a lease period (the acks that renew its lease carry the maps of a quorum, which
// holds the drop before the owner stops waiting for the replica), so it may lack writes acknowledged meanwhile. The
// owner answers it as a plain read (never stale); any other member refuses with MOVED to the owner.
import type { ReplGetReply } from '../../schemas/replication.js';
import { REPLICATION_COMMANDS } from '../../schemas/replication.js';
import type { StoreActor } from '../actor/actor.js';
import { termOf } from '../map/fork_entry.js';
import { StoreError } from '../protocol/errors.js';
import { checkKeySize } from '../protocol/keys.js';
import { storedToWire } from '../protocol/values.js';
import type { OwnerStreams } from './owner_stream.js';
import type { ReplicaSide } from './replica_side.js';

const getCommand = REPLICATION_COMMANDS['repl-get'];

export class ReplicaReads {
  constructor(
    private readonly actor: StoreActor,
    private readonly replicaSide: ReplicaSide,
    private readonly streams: () => OwnerStreams,
  ) {}

  register(): void {
    this.actor.registerCommand('repl-get', (body) => getCommand.encodeReply(this.get(getCommand.decodeRequest(body).keys)));
  }

  private get(keys: Buffer[]): ReplGetReply {
    const a = this.actor;
    if (!keys.length) throw new StoreError('BAD_REQUEST', 'repl-get: no keys');
    // Without its lease a member may have lost its place in the in-sync set (or the fork) unawares.
    a.ownership.checkRead();
    const entries = keys.map((key) => {
      checkKeySize(key, a.ownership.maxKeyBytes);
      return a.map.lookup(key);
    });
    const e = entries[0]!;
    const other = entries.find((x) => x.fork !== e.fork);
    if (other) throw new StoreError('CROSS_FORK', `repl-get keys span forks ${e.fork} and ${other.fork}; send one repl-get per fork`);
    const values = () => keys.map((key) => storedToWire(a.db.get(key)));
    if (e.owner === a.id) {
      a.ownership.checkOwner(e, false);
      return { values: values(), fork: e.fork, servedBy: a.id, owner: a.id, term: termOf(e), applied: this.streams().stream(e.fork)?.seq ?? -1, sinceMs: 0 };
    }
    const place = this.replicaSide.applied(e.fork);
    if (!place || !(e.inSync ?? []).includes(a.id)) {
      const redirect = { fork: e.fork, owner: e.owner, endpoint: a.members.get(e.owner) ?? '', epoch: e.epoch };
      throw new StoreError('MOVED', `${a.id} is no in-sync replica of fork ${e.fork}: read it from its owner ${e.owner}`, true, redirect);
    }
    return { values: values(), fork: e.fork, servedBy: a.id, owner: e.owner, term: place.term, applied: place.seq, sinceMs: this.replicaSide.sinceApplied(e.fork) };
  }
}
