// `--read-from replica` (issue 10): a read served by an in-sync replica of the key's fork rather than its owner,
// which spreads reads over the copies, with how stale the answer may be (the replica's place in the owner's stream
// and the time since it last applied a change). The owner answers when no in-sync replica does (none listed in the
// client's map, or each refused or was unreachable), as a plain read, never stale.
import { REPLICATION_COMMANDS } from '../../schemas/replication.js';
import { wireToStored } from '../protocol/values.js';
import type { StoreClient, Value } from './client.js';

/** A replica that does not answer this fast is passed over for the next one, or the owner. */
const REPLICA_TIMEOUT_MS = 1000;

export interface ReplicaRead {
  value: Value;
  fork: string;
  /** The member that answered, and the fork's owner (the same when no replica answered). */
  servedBy: string;
  owner: string;
  fromReplica: boolean;
  /** The answering replica's place in the owner's stream (changes up to `applied` of the stream of `term`); -1 from the owner. */
  term: number;
  applied: number;
  /** Milliseconds since the replica last applied a change of the fork (-1: none since it started); 0 from the owner. */
  sinceMs: number;
}

export async function getFromReplica(client: StoreClient, key: Buffer): Promise<ReplicaRead> {
  const entry = client.map.lookup(key);
  const body = REPLICATION_COMMANDS['repl-get'].encodeRequest({ keys: [key] });
  for (const id of entry.inSync ?? []) {
    const ep = client.members.get(id);
    if (!ep || id === entry.owner) continue;
    const rep = await client.raw(ep, 'repl-get', body, REPLICA_TIMEOUT_MS).catch(() => null);
    if (rep?.code !== 'OK') continue;
    const r = REPLICATION_COMMANDS['repl-get'].decodeReply(rep.body);
    return { value: wireToStored(r.values[0]!), fork: r.fork, servedBy: r.servedBy, owner: r.owner, fromReplica: r.servedBy !== r.owner, term: r.term, applied: r.applied, sinceMs: r.sinceMs };
  }
  const value = await client.get(key);
  const now = client.map.lookup(key);
  return { value, fork: now.fork, servedBy: now.owner, owner: now.owner, fromReplica: false, term: -1, applied: -1, sinceMs: 0 };
}
