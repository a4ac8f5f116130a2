// The pipeline runtime's own messages, beside the stage messages (pipeline.ts) they travel with:
//   - Control: a command from the coordinator to one stage actor, sent to the actor's input socket
//     (so it needs no second socket): credits for the source stage, or end of input;
//   - ActorEvent: what an actor tells the coordinator on its control socket: ready, emitted,
//     ack, task done, input done, error, progress.
// Both ride in the StageMessage envelope (type + schema version), so an actor or coordinator of
// another dbslm version is refused with a message naming the type and both versions.
import { avroType, decodeAs } from './command.js';
import { decodeStageMessage, StageMessageType, type BadLine, type BatchOrigin, type StageMessageName } from './pipeline.js';

export const CONTROL_VERSION = 1;
export const ACTOR_EVENT_VERSION = 1;

/**
 * `credit`: the source actor may emit `credits` more new batches (bounded in-flight);
 * `end`: no more input will come: the actor finishes what it holds, reports `done` and exits.
 */
export interface Control {
  kind: 'credit' | 'end';
  credits: number;
}
const ControlType = avroType({
  type: 'record',
  name: 'dbslm.pipeline.control.Control',
  fields: [
    { name: 'kind', type: { type: 'enum', name: 'dbslm.pipeline.control.ControlKind', symbols: ['credit', 'end'] } },
    { name: 'credits', type: 'int', default: 0 },
  ],
});

const OriginType = avroType({
  type: 'record',
  name: 'dbslm.pipeline.control.Origin',
  fields: [
    { name: 'generation', type: 'int' },
    { name: 'input', type: 'int' },
    { name: 'offset', type: 'long' },
  ],
});

export type ActorEventKind = 'ready' | 'emitted' | 'ack' | 'task' | 'done' | 'error' | 'progress';

/**
 * One event of one actor (stage, worker index, incarnation = restarts of that worker so far):
 *   - ready: its sockets are bound and connected, it takes input;
 *   - emitted (source stage): `origin` is about to be sent downstream;
 *   - ack (sink): `origin` is committed; `words`, `sentences`, `lines`, `bad` are its counts;
 *   - task (source): the read task of `origin.input` is exhausted (every batch of it emitted);
 *   - done: its input ended and everything it emitted was sent;
 *   - error: `message` says what failed (the actor exits after it);
 *   - progress: `itemsIn` / `itemsOut` messages so far.
 */
export interface ActorEvent {
  kind: ActorEventKind;
  stage: string;
  worker: number;
  incarnation: number;
  origin: BatchOrigin | null;
  words: number;
  sentences: number;
  lines: number;
  bad: BadLine[];
  itemsIn: number;
  itemsOut: number;
  /** task: whether the exhausted task was a redelivery (`only`) rather than an input's whole read. */
  redelivery: boolean;
  /** progress, done: the peak resident set of the actor's process, in KiB (process.resourceUsage().maxRSS). */
  maxRssKb: number;
  /** error: the failure would recur on a restart (bad input, a message of another version): the run stops. */
  fatal: boolean;
  message: string | null;
}
const ActorEventType = avroType({
  type: 'record',
  name: 'dbslm.pipeline.control.ActorEvent',
  fields: [
    { name: 'kind', type: { type: 'enum', name: 'dbslm.pipeline.control.ActorEventKind', symbols: ['ready', 'emitted', 'ack', 'task', 'done', 'error', 'progress'] } },
    { name: 'stage', type: 'string' },
    { name: 'worker', type: 'int' },
    { name: 'incarnation', type: 'int' },
    { name: 'origin', type: ['null', OriginType], default: null },
    { name: 'words', type: 'long', default: 0 },
    { name: 'sentences', type: 'long', default: 0 },
    { name: 'lines', type: 'long', default: 0 },
    { name: 'bad', type: { type: 'array', items: 'dbslm.pipeline.BadLine' }, default: [] },
    { name: 'itemsIn', type: 'long', default: 0 },
    { name: 'itemsOut', type: 'long', default: 0 },
    { name: 'redelivery', type: 'boolean', default: false },
    { name: 'maxRssKb', type: 'long', default: 0 },
    { name: 'fatal', type: 'boolean', default: false },
    { name: 'message', type: ['null', 'string'], default: null },
  ],
});

export function encodeControl(control: Control): Buffer {
  return StageMessageType.toBuffer({ type: 'Control', version: CONTROL_VERSION, body: ControlType.toBuffer(control) });
}

/** An event with every count defaulted: the caller fills what its kind carries. */
export function actorEvent(kind: ActorEventKind, who: { stage: string; worker: number; incarnation: number }, fields: Partial<ActorEvent> = {}): ActorEvent {
  return { kind, ...who, origin: null, words: 0, sentences: 0, lines: 0, bad: [], itemsIn: 0, itemsOut: 0, redelivery: false, maxRssKb: 0, fatal: false, message: null, ...fields };
}

export function encodeActorEvent(event: ActorEvent): Buffer {
  return StageMessageType.toBuffer({ type: 'ActorEvent', version: ACTOR_EVENT_VERSION, body: ActorEventType.toBuffer(event) });
}

function refuseVersion(type: string, got: number, reads: number): never {
  throw new Error(`pipeline message ${type} has schema version ${got}; this dbslm reads version ${reads}: run the same dbslm version on every host`);
}

export function decodeActorEvent(bytes: Buffer): ActorEvent {
  const envelope = decodeAs<{ type: string; version: number; body: Buffer }>(StageMessageType, bytes, 'actor event envelope');
  if (envelope.type !== 'ActorEvent') throw new Error(`expected an ActorEvent on the coordinator's control socket, got ${JSON.stringify(envelope.type)}`);
  if (envelope.version !== ACTOR_EVENT_VERSION) refuseVersion(envelope.type, envelope.version, ACTOR_EVENT_VERSION);
  return decodeAs<ActorEvent>(ActorEventType, envelope.body, `ActorEvent v${envelope.version}`);
}

/** What arrives on a stage actor's input socket: a Control command or a stage message. */
export type ActorInput = { control: Control } | { name: StageMessageName; value: unknown };

export function decodeActorInput(bytes: Buffer): ActorInput {
  const envelope = decodeAs<{ type: string; version: number; body: Buffer }>(StageMessageType, bytes, 'stage message envelope');
  if (envelope.type !== 'Control') return decodeStageMessage(bytes);
  if (envelope.version !== CONTROL_VERSION) refuseVersion(envelope.type, envelope.version, CONTROL_VERSION);
  return { control: decodeAs<Control>(ControlType, envelope.body, `Control v${envelope.version}`) };
}
