// The sequence numbers of one producer's exactly-once batches. Every batch gets a fresh seq and
// is resent under it until settled (acknowledged or given up); each batch also carries the floor,
// below which every seq is settled and will never be sent again, so actors may prune their dedup
// records below it. Pure bookkeeping, tested on its own (test/store_client_batch_sequence.test.ts).
export class BatchSequence {
  private next: number;
  private lowest: number;
  private readonly open = new Set<number>();

  /** `first`: the first seq to hand out; a producer id reused by a new client must start past its last one. */
  constructor(first = 1) {
    this.next = this.lowest = first;
  }

  /** Every seq below this is settled. */
  get floor(): number {
    return this.lowest;
  }

  /** A fresh seq for a new batch; it holds the floor down until settled. */
  take(): number {
    const seq = this.next++;
    this.open.add(seq);
    return seq;
  }

  /** `seq` will not be sent again (acknowledged or abandoned): the floor moves past the settled seqs. */
  settle(seq: number): void {
    this.open.delete(seq);
    while (this.lowest < this.next && !this.open.has(this.lowest)) this.lowest++;
  }
}
