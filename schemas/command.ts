// A command's request and reply body schemas with their TypeScript types, so that every encode and
// decode of a body is typed by the command it belongs to. Bodies ride in the envelope's `body`
// bytes (schemas/envelope.ts). All named Avro types share one registry, so a type such as
// ForkEntry is defined once and referenced by every family that carries it.
import avro from 'avsc';
import { checkEncoding } from './bounded_check.js';

const registry: Record<string, avro.Type> = {};

/** An Avro type in the shared registry. */
export function avroType(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry });
}

/**
 * Where bodies are encoded. avsc's toBuffer encodes into a fixed 1 KiB buffer and, for a larger value (a batch of
 * increments, a replication message), encodes all of it a second time into one of the right size; this one grows
 * to the largest body met, so every body is encoded once and copied out.
 */
let scratch = Buffer.allocUnsafeSlow(1 << 16);

/** `type.toBuffer(value)`, in one encoding pass. */
export function encodeOnce(type: avro.Type, value: unknown): Buffer {
  for (;;) {
    const end = type.encode(value, scratch, 0);
    if (end >= 0) return Buffer.from(scratch.subarray(0, end));
    scratch = Buffer.allocUnsafeSlow(Math.max(2 * scratch.length, scratch.length - end));
  }
}

/** A body that does not decode as its command's schema: the sender's error, never the receiver's. */
export class BadBody extends Error {}

export class CommandSchema<Req, Rep> {
  private readonly replyResolvers: { writer: avro.Type; resolver: avro.Resolver }[];

  /**
   * `earlierReplies`: reply types older actors still send (each a prefix of the fields of `reply`,
   * whose added fields have defaults); a reply that does not decode as `reply` is read as one of
   * them, the missing fields taking their defaults.
   */
  constructor(readonly name: string, readonly request: avro.Type, readonly reply: avro.Type, earlierReplies: avro.Type[] = []) {
    this.replyResolvers = earlierReplies.map((writer) => ({ writer, resolver: reply.createResolver(writer) }));
  }

  encodeRequest(value: Req): Buffer {
    return encodeOnce(this.request, value);
  }
  decodeRequest(body: Buffer): Req {
    return decodeAs<Req>(this.request, body, `${this.name} request`);
  }
  encodeReply(value: Rep): Buffer {
    return encodeOnce(this.reply, value);
  }
  decodeReply(body: Buffer): Rep {
    try {
      return decodeAs<Rep>(this.reply, body, `${this.name} reply`);
    } catch (err) {
      for (const { writer, resolver } of this.replyResolvers) {
        try {
          checkEncoding(writer, body);
          return this.reply.fromBuffer(body, resolver) as Rep;
        } catch {
          // not this one either
        }
      }
      throw err;
    }
  }
}

export function command<Req, Rep>(name: string, request: avro.Type, reply: avro.Type, earlierReplies: avro.Type[] = []): CommandSchema<Req, Rep> {
  return new CommandSchema<Req, Rep>(name, request, reply, earlierReplies);
}

/** Decodes one whole body; garbage or trailing bytes throw BadBody naming what was expected. */
export function decodeAs<V>(type: avro.Type, body: Buffer, what: string): V {
  try {
    checkEncoding(type, body); // before avsc allocates anything on the counts it reads
    return type.fromBuffer(body) as V;
  } catch (err) {
    throw new BadBody(`${what} body of ${body.length} bytes does not decode as ${type.name ?? 'its schema'} (schemas/): ${(err as Error).message}`);
  }
}

export interface Empty {
  [key: string]: never;
}
export const EmptyType = avroType({ type: 'record', name: 'dbslm.Empty', fields: [] });

export type RequestOf<C> = C extends CommandSchema<infer Req, unknown> ? Req : never;
export type ReplyOf<C> = C extends CommandSchema<unknown, infer Rep> ? Rep : never;
