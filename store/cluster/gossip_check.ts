// What a gossip message must hold before SWIM acts on it. SWIM adds every sender and every member
// an update names, counts them towards the write-lease quorum, remembers them in members.json and
// sends them probes: one message naming a member with a malformed id or endpoint would otherwise
// join a member no one can reach, and a lone actor would lose its lease (every write FENCED) for good.
import type { GossipMessage } from '../../schemas/cluster.js';
import { isActorId } from '../protocol/actor_id.js';
import { endpointProblem } from '../protocol/endpoint.js';
import { StoreError } from '../protocol/errors.js';

function checkMember(id: string, endpoint: string, what: string): void {
  if (!isActorId(id)) throw new StoreError('BAD_REQUEST', `gossip ${what} id ${JSON.stringify(id.slice(0, 80))} is not an actor id (1-64 characters of A-Z a-z 0-9 _ . -)`);
  const problem = endpointProblem(endpoint);
  if (problem) throw new StoreError('BAD_REQUEST', `gossip ${what} ${id} has endpoint ${JSON.stringify(endpoint.slice(0, 200))}, which is not a ZeroMQ endpoint: ${problem}`);
}

/** Throws a BAD_REQUEST StoreError naming the first malformed member id or endpoint of `msg`. */
export function checkGossipMessage(msg: GossipMessage): void {
  checkMember(msg.from, msg.fromEndpoint, 'sender');
  // A direct ack leaves target and targetEndpoint empty; a relayed ack names the target without its endpoint.
  if (msg.target && !isActorId(msg.target)) throw new StoreError('BAD_REQUEST', `gossip target ${JSON.stringify(msg.target.slice(0, 80))} is not an actor id`);
  if (msg.kind === 'PING_REQ') checkMember(msg.target, msg.targetEndpoint, 'target');
  for (const u of msg.updates) checkMember(u.id, u.endpoint, 'update of member');
}
