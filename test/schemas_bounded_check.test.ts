// The bounded pre-check in front of every body decode: it never refuses a real encoding, and it
// refuses bodies whose counts promise more items than the bytes hold, before avsc allocates them.
import test from 'ava';
import { BadBody, type CommandSchema } from '../schemas/command.js';
import { checkEncoding, EncodingError } from '../schemas/bounded_check.js';
import { CLUSTER_COMMANDS } from '../schemas/cluster.js';
import { ForkChunkType } from '../schemas/fork_chunk.js';
import { MOVE_COMMANDS } from '../schemas/moves.js';
import { STORE_COMMANDS } from '../schemas/store.js';
import { seededRandom } from '../model/sample.js';

const schemas: CommandSchema<unknown, unknown>[] = [...Object.values(STORE_COMMANDS), ...Object.values(CLUSTER_COMMANDS), ...Object.values(MOVE_COMMANDS)] as CommandSchema<unknown, unknown>[];

test('every random valid request and reply body passes the check and ends where the encoding ends', (t) => {
  let checked = 0;
  for (const schema of schemas) {
    for (const type of [schema.request, schema.reply]) {
      for (let i = 0; i < 100; i++) {
        const buf = type.toBuffer(type.random());
        t.is(checkEncoding(type, buf), buf.length, `${schema.name} ${type.name}`);
        checked++;
      }
    }
  }
  for (let i = 0; i < 100; i++) {
    const buf = ForkChunkType.toBuffer(ForkChunkType.random());
    t.is(checkEncoding(ForkChunkType, buf), buf.length);
  }
  t.true(checked >= 4000);
});

test('a 5-byte body announcing 2^31 entries is refused as BadBody, for every command with an array', (t) => {
  const hostile = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f]);
  t.throws(() => STORE_COMMANDS.set.decodeRequest(hostile), { instanceOf: BadBody });
  t.throws(() => checkEncoding(STORE_COMMANDS.set.request, hostile), { instanceOf: EncodingError });
  const eightBytes = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  t.throws(() => STORE_COMMANDS.get.decodeRequest(eightBytes), { instanceOf: BadBody });
  t.throws(() => MOVE_COMMANDS['map-put'].decodeRequest(hostile), { instanceOf: BadBody });
});

test('truncations of valid bodies are refused, never decoded into something else', (t) => {
  const body = STORE_COMMANDS.batch.encodeRequest({
    producer: 'p',
    seq: 3,
    floor: 1,
    ops: [{ op: 2, key: Buffer.from('0123456789'), value: Buffer.alloc(0), delta: 5 }],
    incrs: Buffer.alloc(0),
  });
  for (let cut = 0; cut < body.length; cut++) t.throws(() => STORE_COMMANDS.batch.decodeRequest(body.subarray(0, cut)), { instanceOf: BadBody }, `cut at ${cut}`);
  t.deepEqual(STORE_COMMANDS.batch.decodeRequest(body).ops[0]!.delta, 5);
});

test('random bodies either decode or are refused as BadBody, for every command (seeded)', (t) => {
  const random = seededRandom(20261201);
  let refused = 0;
  let decoded = 0;
  for (const schema of schemas) {
    for (let i = 0; i < 300; i++) {
      const body = Buffer.alloc(1 + Math.floor(random() * 24));
      for (let j = 0; j < body.length; j++) body[j] = Math.floor(random() * 256);
      try {
        schema.decodeRequest(body);
        decoded++;
      } catch (err) {
        t.true(err instanceof BadBody, `${schema.name}: ${(err as Error).message}`);
        refused++;
      }
    }
  }
  t.is(refused + decoded, schemas.length * 300);
  t.true(refused > 0);
});
