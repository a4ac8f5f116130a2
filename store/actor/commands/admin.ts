// Administrative commands: ping, stats, metrics, checkpoint, map, map-apply, stop. Those without a request
// still decode their (empty) body: a garbage `stop` must be a BAD_REQUEST, not a stop.
import { performance } from 'node:perf_hooks';
import { STORE_COMMANDS } from '../../../schemas/store.js';
import { ForkMap } from '../../map/fork_map.js';
import { StoreError } from '../../protocol/errors.js';
import type { ActorServices, CommandHandler } from '../command.js';

export const ping: CommandHandler = (body, { actor }) => {
  STORE_COMMANDS.ping.decodeRequest(body);
  return STORE_COMMANDS.ping.encodeReply({ id: actor.id, epoch: actor.map.version });
};

export const stats: CommandHandler = (body, { actor }) => {
  STORE_COMMANDS.stats.decodeRequest(body);
  const forks = actor.ownership.ownedForks().map((f) => ({
    fork: f.fork,
    epoch: f.epoch,
    ...actor.db.size(Buffer.from(f.fork, 'hex')),
    ops: actor.rates.opsOf(f.fork),
    opsPerSec: actor.rates.opsPerSecondOf(f.fork),
    fenced: actor.ownership.isFenced(f.fork),
  }));
  return STORE_COMMANDS.stats.encodeReply({ id: actor.id, endpoint: actor.endpoint, epoch: actor.map.version, durability: actor.db.durability, uptimeMs: Date.now() - actor.startedAt, forks, droppedReplies: actor.droppedReplies });
};

/**
 * Counters for a pipeline's metrics hub: all kept as the actor goes (one increment per message or
 * reply), so unlike `stats` (a size query per owned fork) this reads nothing from the database.
 */
export const metrics: CommandHandler = (body, { actor }) => {
  STORE_COMMANDS.metrics.decodeRequest(body);
  const { requests, bytesIn, replies, bytesOut, errors } = actor.load;
  return STORE_COMMANDS.metrics.encodeReply({
    id: actor.id,
    uptimeMs: Date.now() - actor.startedAt,
    requests,
    bytesIn,
    // This reply is not sent yet: it is counted as in flight, and as a reply once it leaves.
    replies,
    bytesOut,
    errors,
    busyMs: performance.eventLoopUtilization().active,
    queueDepth: actor.queueDepth,
    inFlight: Math.max(0, requests - replies - actor.droppedReplies),
  });
};

export const checkpoint: CommandHandler = (body, { actor }) => {
  STORE_COMMANDS.checkpoint.decodeRequest(body);
  actor.group.commit(); // a checkpoint copies committed pages only
  return STORE_COMMANDS.checkpoint.encodeReply(actor.db.checkpoint());
};

const memberList = (actor: ActorServices) => [...actor.members].map(([id, endpoint]) => ({ id, endpoint }));

export const map: CommandHandler = (body, { actor }) => {
  STORE_COMMANDS.map.decodeRequest(body);
  return STORE_COMMANDS.map.encodeReply({ map: actor.map.toJSON(), members: memberList(actor) });
};

export const mapApply: CommandHandler = (body, { actor }) => {
  const request = STORE_COMMANDS['map-apply'].decodeRequest(body);
  let incoming: ForkMap;
  try {
    incoming = ForkMap.fromEntries(request.map.entries);
  } catch (err) {
    throw new StoreError('BAD_REQUEST', `map-apply: ${(err as Error).message}`);
  }
  actor.applyMap(incoming, request.members.map((member) => [member.id, member.endpoint] as [string, string]));
  return STORE_COMMANDS['map-apply'].encodeReply({ version: actor.map.version });
};

export const stop: CommandHandler = (body, { actor }) => {
  STORE_COMMANDS.stop.decodeRequest(body);
  // Reply first, then stop: the reply is queued before the socket closes.
  setTimeout(() => void actor.stop().then(() => actor.onStopped?.()), 20);
  return STORE_COMMANDS.stop.encodeReply({});
};
