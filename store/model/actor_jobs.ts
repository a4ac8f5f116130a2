// Running a model job inside the store actors: one command per owner of the current map, with the
// forks it owns, all owners at once (the smoothing phases, smooth/smooth_model.ts, and the Top-K
// heads, topk/materialise_topk.ts). The actor side registers the commands (smooth/smooth_jobs.ts,
// topk/topk_jobs.ts).
import { StoreReplyError, type StoreClient } from '../client/client.js';
import { forksByOwner } from './smooth/stat_scan.js';

/** How long one actor's part of a phase may take (a big fork set at order 5 takes minutes). */
const JOB_TIMEOUT_MS = 60 * 60 * 1000;

/** Runs `work` once per owner of the current map with its forks, all at once. */
export function perOwner<T>(client: StoreClient, work: (owner: string, forks: string[]) => Promise<T>): Promise<T[]> {
  return Promise.all([...forksByOwner(client)].map(([owner, forks]) => work(owner, forks)));
}

/** Sends job `command` to actor `owner` and resolves with its reply body; a reply other than OK is a StoreReplyError. */
export async function runActorJob(client: StoreClient, owner: string, command: string, body: Buffer): Promise<Buffer> {
  const endpoint = await client.endpointFor(owner);
  const reply = await client.raw(endpoint, command, body, JOB_TIMEOUT_MS);
  if (reply.code !== 'OK') throw new StoreReplyError(reply.code, `${command} on ${owner}: ${reply.message}`, endpoint);
  return reply.body;
}
