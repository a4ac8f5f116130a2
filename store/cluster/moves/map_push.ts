// Pushing new fork-map entries to every alive peer at a cut-over or takeover (`map-put`), so redirects settle at
// once rather than at the pace of gossip.
import { MOVE_COMMANDS } from '../../../schemas/moves.js';
import type { ForkEntry } from '../../../schemas/fork_map.js';
import type { PeerLink } from '../../client/peer_link.js';
import type { MoveCluster } from './move_cluster.js';

const PUSH_TIMEOUT_MS = 3000;

/** Resolves with how many peers adopted the entries. */
export async function pushEntries(link: PeerLink, cluster: MoveCluster, entries: ForkEntry[]): Promise<number> {
  const body = MOVE_COMMANDS['map-put'].encodeRequest({ entries });
  const replies = await Promise.all(cluster.alivePeerEndpoints().map((ep) => link.tryRequest(ep, 'map-put', body, PUSH_TIMEOUT_MS)));
  return replies.filter((r) => r?.code === 'OK').length;
}
