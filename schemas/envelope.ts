// The envelope of the store protocol. Every ZeroMQ message between a DEALER (client or peer) and
// a store actor's ROUTER is a list of frames; each frame holds one or more encoded `Request`s back
// to back (clients bundle pipelined requests), and replies come back the same way. The envelope is
// fixed; `body` holds the command's own request or reply (schemas/command.ts), so new command
// families add their bodies without touching the envelope or the actor's dispatch.
import avro from 'avsc';

/** A request: an id chosen by the sender and echoed in the reply, a command name and its body. */
export interface Request {
  id: number;
  cmd: string;
  /** The fork-map version the client routed with (0 if unknown); informational, actors do not act on it. */
  epoch: number;
  body: Buffer;
}

export const REPLY_CODES = [
  'OK',
  'BAD_REQUEST', // malformed frame, body not decodable, key shorter than its routing bytes...
  'UNKNOWN_COMMAND',
  'TOO_LARGE', // key or value over the documented limits
  'WRONG_TYPE', // incr on a byte value, etc.
  'MOVED', // the fork is owned by another actor: see `redirect`
  'FENCED', // the fork is being moved, or the actor holds no write lease; retry shortly (retryable)
  'CROSS_FORK', // a batch/scan/purge spans forks; split it by fork
  'STOPPING', // the actor is shutting down (retryable elsewhere/later)
  'INTERNAL',
] as const;
export type ReplyCode = (typeof REPLY_CODES)[number];

export interface Redirect {
  fork: string;
  owner: string;
  /** Owner's endpoint if this actor knows it, else '' (refetch the map). */
  endpoint: string;
  epoch: number;
}

export interface Reply {
  id: number;
  code: ReplyCode;
  message: string;
  retryable: boolean;
  redirect: Redirect | null;
  body: Buffer;
}

const ns = 'dbslm.store';

export const RequestType = avro.Type.forSchema({
  type: 'record',
  name: 'Request',
  namespace: ns,
  fields: [
    { name: 'id', type: 'long' },
    { name: 'cmd', type: 'string' },
    { name: 'epoch', type: 'long', default: 0 },
    { name: 'body', type: 'bytes' },
  ],
});

export const ReplyType = avro.Type.forSchema({
  type: 'record',
  name: 'Reply',
  namespace: ns,
  fields: [
    { name: 'id', type: 'long' },
    { name: 'code', type: { type: 'enum', name: 'ReplyCode', symbols: [...REPLY_CODES] } },
    { name: 'message', type: 'string', default: '' },
    { name: 'retryable', type: 'boolean', default: false },
    {
      name: 'redirect',
      type: [
        'null',
        {
          type: 'record',
          name: 'Redirect',
          fields: [
            { name: 'fork', type: 'string' },
            { name: 'owner', type: 'string' },
            { name: 'endpoint', type: 'string' },
            { name: 'epoch', type: 'long' },
          ],
        },
      ],
      default: null,
    },
    { name: 'body', type: 'bytes' },
  ],
});

export function encodeRequest(req: Request): Buffer {
  return RequestType.toBuffer(req);
}
export function encodeReply(rep: Reply): Buffer {
  return ReplyType.toBuffer(rep);
}
export function decodeReply(buf: Buffer): Reply {
  return ReplyType.fromBuffer(buf) as Reply;
}

/**
 * The Replies of one frame, which may hold several back to back (the actor bundles replies to
 * peers that bundle requests). Stops at the first undecodable byte: nothing after it can be
 * matched to a request.
 */
export function* repliesIn(frame: Buffer): Generator<Reply> {
  for (let pos = 0; pos < frame.length; ) {
    let r: { value: unknown; offset: number };
    try {
      r = ReplyType.decode(frame, pos);
    } catch {
      return;
    }
    if (r.offset < 0) return;
    pos = r.offset;
    yield r.value as Reply;
  }
}
