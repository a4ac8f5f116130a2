// Which batches of a run are done: a pure state machine (no IO, no clock) the coordinator feeds
// with the actors' events and asks what to do next. A batch is named by its origin (input, offset);
// the generation is the run's and the same for all.
//
//   - emitted(o): the source is sending batch o: it is in flight until acked;
//   - acked(o): the sink committed o; the first ack counts, later ones are duplicates of a
//     redelivery and are ignored (the store dedups their writes by producer id);
//   - taskDone(input, redelivery): the source read a task to its end;
//   - sourceLost(): the source actor died: its unfinished whole-input tasks must be sent again,
//     skipping what is acked or in flight (in-flight batches are redelivered one by one);
//   - redeliveries(): the in-flight batches, grouped by input, to re-read with `only`;
//   - complete: every input read to its end and nothing in flight.
//
// Completion is decided here, not by the data path: end-of-stream markers would have to pass
// every worker of every stage in order, which round-robin sockets and restarts do not give.

export interface TaskRequest {
  input: number;
  /** Offsets not to emit (acked, or in flight and redelivered on their own). */
  skip: number[];
  /** Offsets to emit, and only them (a redelivery); null: the whole input. */
  only: number[] | null;
}

interface InputState {
  /** Whole-input task still being read (sent, no `task` event yet). */
  reading: boolean;
  /** Redelivery tasks sent and not yet reported exhausted. */
  redeliveries: number;
  acked: Set<number>;
  inFlight: Set<number>;
}

export class BatchTracker {
  private readonly inputs = new Map<number, InputState>();
  private inFlightCount = 0;
  private ackedThisRun = 0;

  /** `committed`: offsets per input acked by an earlier run of the same definition (the checkpoint). */
  constructor(inputs: readonly number[], committed: ReadonlyMap<number, Iterable<number>> = new Map()) {
    for (const input of inputs) this.inputs.set(input, { reading: false, redeliveries: 0, acked: new Set(committed.get(input) ?? []), inFlight: new Set() });
  }

  private state(input: number): InputState {
    const s = this.inputs.get(input);
    if (!s) throw new Error(`batch of unknown input ${input} (the run has inputs ${[...this.inputs.keys()].join(', ')})`);
    return s;
  }

  /** The first tasks: every input whole, skipping what the checkpoint holds. */
  start(): TaskRequest[] {
    return [...this.inputs].map(([input, s]) => {
      s.reading = true;
      return { input, skip: [...s.acked].sort((a, b) => a - b), only: null };
    });
  }

  /** True when `offset` is newly in flight (not acked, not already in flight). */
  emitted(input: number, offset: number): boolean {
    const s = this.state(input);
    if (s.acked.has(offset) || s.inFlight.has(offset)) return false;
    s.inFlight.add(offset);
    this.inFlightCount++;
    return true;
  }

  /** True on the first ack of the batch: count its words then, and never again. */
  acked(input: number, offset: number): boolean {
    const s = this.state(input);
    if (s.acked.has(offset)) return false;
    if (s.inFlight.delete(offset)) this.inFlightCount--;
    s.acked.add(offset);
    this.ackedThisRun++;
    return true;
  }

  taskDone(input: number, redelivery: boolean): void {
    const s = this.state(input);
    if (redelivery) s.redeliveries = Math.max(0, s.redeliveries - 1);
    else s.reading = false;
  }

  /** The in-flight batches as redelivery tasks, one per input, and counted as outstanding. */
  redeliveries(): TaskRequest[] {
    const out: TaskRequest[] = [];
    for (const [input, s] of this.inputs) {
      if (s.inFlight.size === 0) continue;
      s.redeliveries++;
      out.push({ input, skip: [], only: [...s.inFlight].sort((a, b) => a - b) });
    }
    return out;
  }

  /**
   * The source died: every task it held is void. Whole-input tasks not read to their end are sent
   * again (skipping acked and in-flight batches), and the in-flight ones are redelivered.
   */
  sourceLost(): TaskRequest[] {
    const again: TaskRequest[] = [];
    for (const [input, s] of this.inputs) {
      s.redeliveries = 0;
      if (s.reading) again.push({ input, skip: [...s.acked, ...s.inFlight].sort((a, b) => a - b), only: null });
    }
    return [...again, ...this.redeliveries()];
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Batches acked in this run (not counting the checkpoint's). */
  get ackedCount(): number {
    return this.ackedThisRun;
  }

  /**
   * Every input read to its end and nothing in flight. A redelivery still being read does not
   * hold completion back: whatever it emits now is acked already, a duplicate.
   */
  get complete(): boolean {
    if (this.inFlightCount > 0) return false;
    for (const s of this.inputs.values()) if (s.reading) return false;
    return true;
  }

  /** Redelivery tasks sent and not reported exhausted (for progress and tests). */
  get redeliveriesPending(): number {
    let n = 0;
    for (const s of this.inputs.values()) n += s.redeliveries;
    return n;
  }

  /** The offsets acked for `input` (this run and the checkpoint's). */
  ackedOffsets(input: number): number[] {
    return [...this.state(input).acked];
  }
}
