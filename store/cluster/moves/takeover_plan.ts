// Which live member takes which fork of a dead one (`dbslm store takeover`), as a pure function: the forks go one by one
// to the member that owns the fewest forks so far (ties: the smaller id), so fork counts even out across the members.
export function spreadForks(forks: string[], targets: string[], owned: ReadonlyMap<string, number>): Map<string, string[]> {
  const ids = [...new Set(targets)].sort();
  const load = new Map(ids.map((id) => [id, owned.get(id) ?? 0]));
  const plan = new Map<string, string[]>();
  if (!ids.length) return plan;
  for (const fork of [...forks].sort()) {
    let best = ids[0]!;
    for (const id of ids) if (load.get(id)! < load.get(best)!) best = id;
    load.set(best, load.get(best)! + 1);
    const share = plan.get(best);
    if (share) share.push(fork);
    else plan.set(best, [fork]);
  }
  return plan;
}
