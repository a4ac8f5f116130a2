// A stage actor: the entry of the worker thread that hosts one worker of one stage (spec in
// workerData, actor_spec.ts). It binds a ZeroMQ Pull for its input, connects one Push to every
// downstream worker (ZeroMQ round-robins; `await send()` is the backpressure), applies the stage
// operator to what arrives, and sends each output on, or, in the last stage, writes it through the
// sink and acks it to the coordinator. Events go to the coordinator on a third socket.
//
// Memory stays bounded by the high-water mark H: the sockets queue at most H messages, input is
// not received while H inputs and outputs wait here, and `compute` (the stage's pool) waits while
// H outputs wait to be sent, which also throttles a stage that emits many outputs per input.
// The source stage sends a new batch only with a credit from the coordinator (bounded in flight);
// batches of a redelivery task need none: they are in flight already.
import { parentPort, workerData } from 'node:worker_threads';
import { concat, from, map, mergeMap, of, type Observable } from 'rxjs';
import zmq from 'zeromq';
import { encodeStageMessage, type BadLine, type BatchOrigin } from '../../schemas/pipeline.js';
import { actorEvent, decodeActorInput, encodeActorEvent, type ActorEvent, type ActorEventKind } from '../../schemas/pipeline_control.js';
import type { Compute, Stage } from '../../stages/stage.js';
import { ActorMetrics, countBatchBytes } from './actor_metrics.js';
import { Inbox, SerialSender, Signal } from './actor_queues.js';
import type { ActorSpec } from './actor_spec.js';
import { TapPublisher } from './tap_publisher.js';
import { openStoreSink, type Sink } from './store_sink.js';

// A worker thread gets its spec as workerData, a child process as its first argument.
const spec = (workerData ?? JSON.parse(process.argv[2] ?? 'null')) as ActorSpec;
const who = { stage: spec.stage, worker: spec.worker, incarnation: spec.incarnation };
const H = Math.max(1, spec.highWaterMark);
/** Outputs held at once (queued, or being written by the sink): the sink stage's are its largest messages (CountBatches), kept to its write concurrency. */
const OUT = spec.sink ? Math.max(1, spec.sinkConcurrency) : H;

type Entry = { kind: 'out'; value: unknown; exempt: boolean; startedMs: number } | { kind: 'task'; task: { generation: number; input: number; only: unknown[] | null } };

/** A failure that would recur on a restart: the run stops instead of restarting the actor. */
function isFatal(err: unknown): boolean {
  const e = err as { name?: string; fatal?: unknown } | null;
  return e?.name === 'InputError' || e?.fatal === true;
}

function originOf(value: unknown): BatchOrigin {
  const v = value as Partial<BatchOrigin>;
  if (typeof v?.input !== 'number' || typeof v.offset !== 'number') throw Object.assign(new Error(`stage ${spec.stage} emitted a message without a batch origin (input, offset): the runtime tracks batches by it`), { fatal: true });
  return { generation: v.generation ?? 0, input: v.input, offset: v.offset };
}

/** Binds, retrying a while: a restarted actor rebinds its predecessor's endpoint, which the OS may not have released yet. */
async function bindRetrying(socket: zmq.Pull, endpoint: string, forMs = 5000): Promise<void> {
  const deadline = performance.now() + forMs;
  for (;;) {
    try {
      return await socket.bind(endpoint);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EADDRINUSE' || performance.now() > deadline) throw Object.assign(new Error(`cannot bind ${endpoint}: ${(err as Error).message}`), { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function main(): Promise<void> {
  const events = new zmq.Push({ linger: 2000, sendHighWaterMark: 100000 });
  events.connect(spec.control);
  const eventSender = new SerialSender((m) => events.send(m));
  const report = (kind: ActorEventKind, fields: Partial<ActorEvent> = {}) => eventSender.send(encodeActorEvent(actorEvent(kind, who, fields)));
  const sockets: { close(): void }[] = [];
  let pool: { run(input: unknown, opts: { name: string }): Promise<unknown>; destroy(): Promise<void> } | null = null;
  let sink: Sink | null = null;
  let stopping = false;
  // Metrics and the tap only watch: they never fail the actor nor hold a batch back.
  const metrics = new ActorMetrics(spec);
  let tap: TapPublisher | null = null;

  async function finish(code: number): Promise<never> {
    stopping = true;
    sink?.close();
    tap?.close();
    await metrics.close().catch(() => undefined);
    for (const s of sockets) s.close();
    await pool?.destroy().catch(() => undefined);
    events.close();
    process.exit(code);
  }

  async function fail(err: unknown): Promise<never> {
    if (stopping) return new Promise<never>(() => undefined);
    stopping = true;
    const message = `stage ${spec.stage} worker ${spec.worker}: ${(err as Error)?.message ?? String(err)}`;
    metrics.errors(1);
    await report('error', { message, fatal: isFatal(err) }).catch(() => undefined);
    return finish(1);
  }

  // An uncaught error must close the sockets before the actor ends: zeromq.js aborts the whole
  // process when a thread ends with sockets open (zeromq/zeromq.js#411).
  process.on('uncaughtException', (err) => void fail(err));
  process.on('unhandledRejection', (err) => void fail(err));

  try {
    const changed = new Signal();
    const inbox = new Inbox<unknown>(changed);
    const normal: Entry[] = [];
    const priority: Entry[] = [];
    let credits = 0;
    let itemsIn = 0;
    let itemsOut = 0;
    let writing = 0;
    let operatorDone = false;

    const pull = new zmq.Pull({ receiveHighWaterMark: H, linger: 0 });
    sockets.push(pull);
    await bindRetrying(pull, spec.bind);
    const push = spec.downstream.length > 0 ? new zmq.Push({ sendHighWaterMark: H, linger: 0 }) : null;
    if (push) {
      sockets.push(push);
      for (const ep of spec.downstream) push.connect(ep);
    }
    const dataSender = push ? new SerialSender((m) => push.send(m)) : null;
    if (spec.tap) {
      const t = new TapPublisher();
      try {
        await t.bind(spec.tap.endpoint);
        tap = t;
      } catch (err) {
        t.close();
        await report('error', { message: `stage ${spec.stage} worker ${spec.worker}: no tap: cannot bind ${spec.tap.endpoint}: ${(err as Error).message}`, fatal: false });
      }
    }
    const tapEmits = spec.tap?.emits ?? null;

    // The pool starts on the first compute(): stages that never call it cost no threads.
    const run = async <In, Out>(task: string, input: In): Promise<Out> => {
      if (!spec.taskModule) throw Object.assign(new Error(`stage ${spec.stage} called compute('${task}') but has no task module`), { fatal: true });
      if (!pool) {
        const { Piscina } = await import('piscina');
        pool ??= new Piscina({ filename: spec.taskModule, maxThreads: Math.max(1, spec.poolSize), minThreads: 1 });
      }
      await changed.until(() => normal.length + priority.length + writing < OUT);
      return (await pool.run(input, { name: task })) as Out;
    };
    // A source's new batches wait in `normal` for credits: it reads on while fewer than H wait.
    const compute: Compute = Object.assign(run, { room: () => changed.until(() => normal.length < H) });
    const mod = (await import(spec.module)) as { createStage?: (config: unknown, compute: Compute) => Stage<unknown, unknown> };
    if (typeof mod.createStage !== 'function') throw Object.assign(new Error(`${spec.module} exports no createStage(config, compute)`), { fatal: true });
    const stage = mod.createStage(spec.config, compute);
    if (spec.sink?.kind === 'store') sink = await openStoreSink(spec.sink.endpoints, spec.sink.model, spec.sink.timeoutMs, spec.sink.run);
    else if (spec.sink?.kind === 'module') sink = ((await import(spec.sink.url)) as { createSink: (config: unknown) => Sink }).createSink(spec.sink.config);

    // The operator: the source applies it to each task alone, so the end of a task is known.
    const inputs = from(inbox);
    const entries: Observable<Entry> = spec.source
      ? inputs.pipe(
          mergeMap((task) => {
            const t = task as { generation: number; input: number; only: unknown[] | null };
            const exempt = t.only !== null && t.only !== undefined;
            return concat(of(task).pipe(stage, map((value): Entry => ({ kind: 'out', value, exempt, startedMs: metrics.produced(value) }))), of<Entry>({ kind: 'task', task: t }));
          }),
        )
      : inputs.pipe(stage, map((value): Entry => ({ kind: 'out', value, exempt: false, startedMs: metrics.produced(value) })));
    entries.subscribe({
      next: (e) => {
        if (e.kind === 'task') metrics.taskDone(e.task.input);
        metrics.queued(inbox.size);
        const urgent = e.kind === 'out' ? e.exempt : e.task.only !== null && e.task.only !== undefined;
        (urgent ? priority : normal).push(e);
        changed.notify();
      },
      error: (err) => void fail(err),
      complete: () => {
        operatorDone = true;
        changed.notify();
      },
    });

    const progress = setInterval(() => void report('progress', { itemsIn, itemsOut, maxRssKb: process.resourceUsage().maxRSS }).catch(() => undefined), spec.progressMs);
    progress.unref();

    // Input: data goes to the operator, controls are obeyed at once (credits must arrive while output waits).
    void (async () => {
      for await (const [msg] of pull) {
        let input;
        try {
          input = decodeActorInput(msg!);
        } catch (err) {
          return fail(Object.assign(err as Error, { fatal: true }));
        }
        if ('control' in input) {
          if (input.control.kind === 'credit') credits += input.control.credits;
          else inbox.end();
          changed.notify();
          if (input.control.kind === 'end') return;
          continue;
        }
        itemsIn++;
        metrics.received(input.value, msg!.length);
        inbox.push(input.value);
        metrics.queued(inbox.size);
        if (!spec.source) await changed.until(() => inbox.size < H && normal.length + priority.length + writing < OUT);
      }
    })().catch(fail);

    await report('ready', { message: pull.lastEndpoint ?? spec.bind });

    // Output: one entry at a time; redeliveries first; new source batches need a credit.
    const sendable = () => priority.length > 0 || (normal.length > 0 && (!spec.source || normal[0]!.kind !== 'out' || credits > 0));
    for (;;) {
      await changed.until(() => sendable() || (operatorDone && normal.length === 0 && priority.length === 0));
      const entry = priority.shift() ?? normal.shift();
      if (!entry) break;
      changed.notify();
      if (entry.kind === 'task') {
        const { generation, input, only } = entry.task;
        await report('task', { origin: { generation, input, offset: 0 }, redelivery: only !== null && only !== undefined });
        continue;
      }
      itemsOut++;
      const origin = originOf(entry.value);
      if (spec.source) {
        if (!entry.exempt) credits--;
        await report('emitted', { origin, redelivery: entry.exempt });
      }
      if (dataSender) {
        const bytes = encodeStageMessage(spec.emits!, entry.value);
        tap?.offer(() => bytes);
        await dataSender.send(bytes);
        metrics.left(entry.value, entry.startedMs, bytes.length);
      } else if (sink) {
        const { value, startedMs } = entry;
        if (tapEmits) tap?.offer(() => encodeStageMessage(tapEmits, sink!.message ? sink!.message(value) : value));
        await changed.until(() => writing < Math.max(1, spec.sinkConcurrency));
        writing++;
        const counts = entry.value as { words?: number; sentences?: number; lines?: number; bad?: BadLine[] };
        sink
          .write(entry.value)
          .then(() => report('ack', { origin, words: counts.words ?? 0, sentences: counts.sentences ?? 0, lines: counts.lines ?? 0, bad: counts.bad ?? [] }))
          .then(
            () => {
              metrics.left(value, startedMs, countBatchBytes(value));
              writing--;
              changed.notify();
            },
            fail,
          );
      } else throw Object.assign(new Error(`stage ${spec.stage} has neither downstream stages nor a sink`), { fatal: true });
    }
    await changed.until(() => writing === 0);
    clearInterval(progress);
    await report('progress', { itemsIn, itemsOut, maxRssKb: process.resourceUsage().maxRSS });
    await report('done', { itemsIn, itemsOut, maxRssKb: process.resourceUsage().maxRSS });
    await finish(0);
  } catch (err) {
    await fail(err);
  }
}

// A child process actor ends with its coordinator (the IPC channel closes when it dies).
if (process.send) process.on('disconnect', () => process.exit(70));
parentPort?.on('message', (m) => {
  // The coordinator's last resort when an actor does not end on `end`: exit now.
  if (m === 'exit') process.exit(0);
});
void main();
