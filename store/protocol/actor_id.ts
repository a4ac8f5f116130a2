// What an actor id may be. Ids name members in the fork map, in gossip and in redirects, and end
// up in file contents and log lines, so they are short and plain.

const ACTOR_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export function isActorId(id: string): boolean {
  return ACTOR_ID.test(id);
}

/** Throw unless `id` is a valid actor id; `what` names where it came from. */
export function checkActorId(id: string, what = 'actor id'): void {
  if (!isActorId(id)) throw new Error(`${what} ${JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}...` : id)} must be 1-64 characters of A-Z a-z 0-9 _ . -`);
}
