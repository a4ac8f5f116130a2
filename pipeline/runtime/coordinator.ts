// The coordinator of a run's counting phase: starts the stage actors (sink stage first, so every
// actor's downstream endpoints are known when it starts), hands the source its tasks and credits,
// follows the actors' events, restarts crashed actors and redelivers what was in flight, records
// committed batches in the checkpoint, and ends the actors once every batch is acked.
//
// The data path never decides completion: the source reports each batch before sending it
// (`emitted`) and each task it exhausted (`task`); the sink acks each committed batch; the batch
// tracker (batch_tracker.ts) says when all is acked. Credits bound the batches in flight.
import zmq from 'zeromq';
import { InputError } from '../../model/errors.js';
import { encodeStageMessage, type BadLine, type ReadTask, type StageMessageName } from '../../schemas/pipeline.js';
import { decodeActorEvent, encodeControl, type ActorEvent } from '../../schemas/pipeline_control.js';
import { ActorCommands } from './actor_commands.js';
import type { ActorSpec } from './actor_spec.js';
import { BatchTracker, type TaskRequest } from './batch_tracker.js';
import { openRunCheckpoint, type Checkpoint } from './checkpoint.js';
import { Endpoints } from './endpoints.js';
import { FinalReports } from './final_reports.js';
import type { WorkerHosts } from './worker_hosts.js';
import type { RuntimePlan } from './plan.js';
import { StagePool, type Slot } from './stage_pool.js';
import { RunStats, type CountingSummary, type RunProgress } from './run_stats.js';

export type { CountingSummary, RunProgress };

export interface CoordinatorHooks {
  /** Progress, at most every `progressMs` (default 250). */
  onProgress?(progress: RunProgress): void;
  /** Restarts, redeliveries, a checkpoint discarded: one line each. */
  onNotice?(line: string): void;
  /** Every actor event as it arrives (tests use it to inject faults at a chosen moment). */
  onEvent?(event: ActorEvent, coordinator: Coordinator): void;
  /** Each stage's tap endpoints (one per worker), assigned before any actor starts (`pipeline tap`). */
  onTaps?(taps: Record<string, string[]>): void;
  progressMs?: number;
}

export class Coordinator {
  readonly pool: StagePool;
  private readonly stats: RunStats;
  private readonly endpoints: Endpoints;
  private readonly resolved = new Map<string, string>();
  private readonly commands = new ActorCommands();
  private readonly readyWaiters = new Map<string, () => void>();
  private readonly finalReports = new FinalReports();
  private readonly lastError = new Map<string, string>();
  /** Tap endpoints by `stage/worker`. */
  private readonly taps = new Map<string, string>();
  private tracker!: BatchTracker;
  private checkpoint: Checkpoint | null = null;
  private sourceIncarnation = 0;
  /** Every actor started and the source given its tasks: crashes from here on are recovered. */
  private running = false;
  private granted = 0;
  private consumed = 0;
  private lastActivity = performance.now();
  private settled = false;
  private resolveDone!: () => void;
  private rejectDone!: (err: Error) => void;
  private readonly done = new Promise<void>((res, rej) => {
    this.resolveDone = res;
    this.rejectDone = rej;
  });

  constructor(
    private readonly plan: RuntimePlan,
    private readonly hooks: CoordinatorHooks = {},
    /** Workers of other hosts, for stages with a host (worker_hosts.ts). */
    private readonly remote: WorkerHosts | null = null,
  ) {
    if (plan.stages.length === 0) throw new Error('a pipeline run needs at least one stage');
    if (plan.stages[0]!.workers !== 1) throw new Error(`stage ${plan.stages[0]!.name} is the source: it runs one worker (it has ${plan.stages[0]!.workers}); give it workers: 1`);
    const hostOf = new Map(plan.stages.map((s) => [s.name, s.host?.name ?? null]));
    this.pool = new StagePool((slot, code, error) => this.onCrash(slot, code, error), plan.host ?? 'process', (spec) => {
      const host = hostOf.get(spec.stage);
      if (!host) return null;
      if (!this.remote) throw new Error(`stage ${spec.stage} is placed on host ${host}, and this run has no pipeline workers`);
      return this.remote.start(host, spec);
    });
    this.stats = new RunStats(plan.stages.map((s) => ({ name: s.name, workers: s.workers })));
    this.endpoints = new Endpoints(plan.transport);
    this.done.catch(() => undefined);
  }

  private get maxInFlight(): number {
    return (this.plan.inFlightPerSinkWorker ?? 8) * this.plan.stages[this.plan.stages.length - 1]!.workers;
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectDone(err);
  }

  /** Runs the counting phase to its end; rejects with the first fatal error or when restarts run out. */
  async run(): Promise<CountingSummary> {
    const control = new zmq.Pull({ linger: 0 });
    const timers: NodeJS.Timeout[] = [];
    try {
      await control.bind(this.endpoints.control(this.plan.listenHost));
      const controlEndpoint = control.lastEndpoint!;
      void this.listen(control);
      const { checkpoint, loaded } = openRunCheckpoint(this.plan.checkpoint, (line) => this.hooks.onNotice?.(line));
      this.checkpoint = checkpoint;
      this.tracker = new BatchTracker(
        this.plan.tasks.map((t) => t.input),
        loaded.committed,
      );
      this.stats.resumed(loaded.batches);
      timers.push(setInterval(() => this.hooks.onProgress?.(this.stats.progress(this.tracker.inFlight)), this.hooks.progressMs ?? 250));
      const stallMs = this.plan.stallMs ?? 30000;
      timers.push(setInterval(() => this.checkStall(stallMs), Math.max(50, stallMs / 4)));
      await this.assignTaps();

      // Sink stage first: each stage starts knowing its downstream workers' bound endpoints.
      for (let i = this.plan.stages.length - 1; i >= 0; i--) {
        const stage = this.plan.stages[i]!;
        const next = this.plan.stages[i + 1];
        const downstream = next ? Array.from({ length: next.workers }, (_, w) => this.resolved.get(`${next.name}/${w}`)!) : [];
        const started = Array.from({ length: stage.workers }, (_, w) => this.startWorker(this.specFor(i, w, 0, downstream, controlEndpoint)));
        await this.whileRunning(Promise.all(started), `stage ${stage.name} to start`);
      }
      this.running = true;
      this.sendTasks(this.tracker.start());
      this.topUpCredits();
      this.checkComplete();
      await this.done;
      // The actors' last progress events arrive before they exit: summarise after.
      await this.shutdown();
      return this.stats.summary(this.tracker.inFlight);
    } finally {
      for (const t of timers) clearInterval(t);
      await this.pool.stopAll(0).catch(() => undefined);
      this.commands.closeAll();
      control.close();
      this.checkpoint?.close();
      this.endpoints.cleanup();
    }
  }

  /** What the sink stage taps: its outputs are written, not sent, so the plan says their type. */
  private get sinkEmits(): StageMessageName | null {
    if (this.plan.sinkEmits !== undefined) return this.plan.sinkEmits;
    return this.plan.sink.kind === 'store' ? 'CountBatch' : null;
  }

  private async assignTaps(): Promise<void> {
    if (this.plan.tap === false) return;
    const byStage: Record<string, string[]> = {};
    for (const stage of this.plan.stages) {
      byStage[stage.name] = [];
      if ((stage.emits ?? this.sinkEmits) === null) continue;
      for (let w = 0; w < stage.workers; w++) {
        const ep = await this.endpoints.tap(stage.name, w, stage.host?.address);
        this.taps.set(`${stage.name}/${w}`, ep);
        byStage[stage.name]!.push(ep);
      }
    }
    this.hooks.onTaps?.(byStage);
  }

  private specFor(stageIndex: number, worker: number, incarnation: number, downstream: string[], control: string): ActorSpec {
    const stage = this.plan.stages[stageIndex]!;
    const last = stageIndex === this.plan.stages.length - 1;
    const tap = this.taps.get(`${stage.name}/${worker}`);
    const tapEmits = last ? this.sinkEmits : stage.emits;
    return {
      stage: stage.name,
      worker,
      incarnation,
      module: stage.module,
      config: stage.config,
      bind: this.endpoints.stage(stage.name, worker, stage.endpoint, stage.host?.address),
      downstream,
      emits: last ? null : stage.emits,
      control,
      source: stageIndex === 0,
      sink: last ? this.plan.sink : null,
      taskModule: stage.taskModule,
      poolSize: stage.poolSize,
      highWaterMark: this.plan.highWaterMark ?? 8,
      sinkConcurrency: this.plan.sinkConcurrency ?? 4,
      progressMs: 200,
      metrics: this.plan.metrics ?? null,
      tap: tap && tapEmits ? { endpoint: tap, emits: tapEmits } : null,
    };
  }

  /** Starts a worker; resolves when it is ready (its endpoint bound and known). */
  private startWorker(spec: ActorSpec): Promise<void> {
    const key = `${spec.stage}/${spec.worker}`;
    const ready = new Promise<void>((resolve) => this.readyWaiters.set(key, resolve));
    this.pool.start(spec);
    const timeoutMs = this.plan.readyTimeoutMs ?? 20000;
    const timer = setTimeout(() => this.fail(new Error(`stage ${spec.stage} worker ${spec.worker} was not ready within ${timeoutMs} ms (binding ${spec.bind})`)), timeoutMs);
    return ready.finally(() => clearTimeout(timer));
  }

  /** `p`, unless the run fails first. */
  private async whileRunning<T>(p: Promise<T>, what: string): Promise<T> {
    const failed = this.done.then(() => {
      throw new Error(`the run ended while waiting for ${what}`);
    });
    return Promise.race([p, failed]);
  }

  private send(stage: string, worker: number, msg: Buffer): void {
    const key = `${stage}/${worker}`;
    this.commands
      .send(key, this.resolved.get(key)!, msg)
      .catch((err: Error) => this.fail(new Error(`sending to stage ${stage} worker ${worker}: ${err.message}`)));
  }

  private sendTasks(requests: TaskRequest[]): void {
    const source = this.plan.stages[0]!.name;
    for (const r of requests) {
      const template = this.plan.tasks.find((t) => t.input === r.input)!;
      const task: ReadTask = { ...template, skip: r.skip, only: r.only };
      this.send(source, 0, encodeStageMessage('ReadTask', task));
    }
  }

  /** Credits so that at most maxInFlight new batches are emitted and not acked. */
  private topUpCredits(): void {
    const want = this.maxInFlight - this.tracker.inFlight - (this.granted - this.consumed);
    if (want <= 0) return;
    this.granted += want;
    this.send(this.plan.stages[0]!.name, 0, encodeControl({ kind: 'credit', credits: want }));
  }

  private checkComplete(): void {
    if (!this.settled && this.tracker.complete) {
      this.settled = true;
      this.resolveDone();
    }
  }

  private checkStall(stallMs: number): void {
    if (this.settled || this.tracker.inFlight === 0 || performance.now() - this.lastActivity < stallMs) return;
    this.lastActivity = performance.now();
    const tasks = this.tracker.redeliveries();
    this.stats.redelivered(tasks.reduce((n, t) => n + (t.only?.length ?? 0), 0));
    this.hooks.onNotice?.(`no progress for ${stallMs} ms with ${this.tracker.inFlight} batches in flight: redelivering them`);
    this.sendTasks(tasks);
  }

  private async listen(control: zmq.Pull): Promise<void> {
    try {
      for await (const [msg] of control) {
        const event = decodeActorEvent(msg!);
        this.onEvent(event);
        this.hooks.onEvent?.(event, this);
      }
    } catch (err) {
      if (!this.settled) this.fail(err as Error);
    }
  }

  private onEvent(e: ActorEvent): void {
    const key = `${e.stage}/${e.worker}`;
    const source = this.plan.stages[0]!.name;
    switch (e.kind) {
      case 'ready':
        if (!this.resolved.has(key)) this.resolved.set(key, e.message!);
        this.readyWaiters.get(key)?.();
        this.readyWaiters.delete(key);
        return;
      case 'emitted':
        this.lastActivity = performance.now();
        if (e.stage === source && e.incarnation === this.sourceIncarnation && !e.redelivery) this.consumed++;
        this.tracker.emitted(e.origin!.input, e.origin!.offset);
        this.topUpCredits();
        return;
      case 'ack':
        this.lastActivity = performance.now();
        if (this.tracker.acked(e.origin!.input, e.origin!.offset)) {
          this.stats.acked(e);
          this.checkpoint?.append(e.origin!.input, e.origin!.offset);
        }
        if (this.settled) return;
        this.topUpCredits();
        this.checkComplete();
        return;
      case 'task':
        if (e.stage === source && e.incarnation === this.sourceIncarnation) this.tracker.taskDone(e.origin!.input, e.redelivery);
        this.checkComplete();
        return;
      case 'progress':
        this.stats.actorProgress(e);
        return;
      case 'done':
        this.stats.actorProgress(e);
        this.finalReports.done(e.stage, e.worker, e.incarnation);
        return;
      case 'error':
        // Bad input or a message of another version: the user's to fix, so an InputError (exit 1).
        if (e.fatal) this.fail(new InputError(e.message ?? `stage ${e.stage} worker ${e.worker} failed`));
        else this.lastError.set(key, e.message ?? 'failed');
        return;
    }
  }

  private onCrash(slot: Slot, code: number, error: Error | null): void {
    if (this.settled) return;
    const key = `${slot.stage}/${slot.worker}`;
    const why = error ? `threw ${error.message}` : this.lastError.get(key) ? `failed: ${this.lastError.get(key)}` : `exited with code ${code}`;
    this.lastError.delete(key);
    if (!this.running) {
      this.fail(new Error(`stage ${slot.stage} worker ${slot.worker} ${why} while the pipeline was starting`));
      return;
    }
    const restarts = this.stats.restarted(slot.stage);
    const max = this.plan.maxRestarts ?? 5;
    if (restarts > max) {
      this.fail(new Error(`stage ${slot.stage} worker ${slot.worker} ${why}; it was restarted ${max} times already (the bound): giving up`));
      return;
    }
    const spec: ActorSpec = { ...slot.spec, incarnation: slot.spec.incarnation + 1, bind: this.resolved.get(key) ?? slot.spec.bind };
    this.commands.drop(key);
    this.startWorker(spec).catch(() => undefined);
    let tasks: TaskRequest[];
    if (spec.source) {
      this.sourceIncarnation = spec.incarnation;
      this.granted = this.consumed = 0;
      tasks = this.tracker.sourceLost();
    } else tasks = this.tracker.redeliveries();
    const batches = tasks.reduce((n, t) => n + (t.only?.length ?? 0), 0);
    this.stats.redelivered(batches);
    this.hooks.onNotice?.(`stage ${slot.stage} worker ${slot.worker} ${why}: restarted (${restarts} of at most ${max}); redelivering ${batches} batches in flight`);
    this.sendTasks(tasks);
    this.topUpCredits();
  }

  /** Ends every actor: `end` on its input, then a bounded wait for it to exit. */
  private async shutdown(): Promise<void> {
    for (const slot of this.pool.all()) {
      slot.stopping = true;
      if (this.resolved.has(`${slot.stage}/${slot.worker}`)) this.send(slot.stage, slot.worker, encodeControl({ kind: 'end', credits: 0 }));
    }
    // The summary counts each actor's items from its last report (final_reports.ts).
    await this.finalReports.all(this.pool.all(), 5000);
    await this.pool.stopAll(5000);
  }
}
