// scan-many: several short ranges in one request per owning actor (what the decoder reads for one
// token). Against real actors: the client's multiScan equals one scan per prefix, over three actors
// owning a third of the forks each, with ranges longer than the per-range limit and more rows than
// one reply carries (both go on with scan); the actor refuses a prefix spanning forks. scan-packed
// (the same ranges, rows packed as key tails and value heads) reads the same rows.
import test from 'ava';
import { STORE_COMMANDS } from '../schemas/store.js';
import { StoreClient } from '../store/client/client.js';
import { makeKey, rangePrefix } from '../store/protocol/keys.js';
import { balancedTrio } from './helpers/cluster_procs.js';
import { spawnActor } from './helpers/store_procs.js';

const key = (context: string, word: number) => makeKey('m.p', Buffer.from(context), Buffer.from(word.toString().padStart(6, '0')));

async function scanned(client: StoreClient, prefix: Buffer): Promise<string[]> {
  const rows: string[] = [];
  for await (const { key: k, value } of client.scan(prefix)) rows.push(`${k.toString('hex')}=${(value as Buffer).toString()}`);
  return rows;
}

test.serial('multiScan over three actors equals one scan per prefix, long ranges included', async (t) => {
  const { client } = await balancedTrio(t);
  // 200 contexts of 1..5 rows, 3 of 2500 rows (past the per-range limit), 4 of 4000 (past one reply's total).
  const sizes = [...Array.from({ length: 200 }, (_, i) => 1 + (i % 5)), 2500, 2500, 2500, 4000, 4000, 4000, 4000];
  const contexts = sizes.map((_, i) => `ctx${i}`);
  const ops = contexts.flatMap((c, i) => Array.from({ length: sizes[i]! }, (_, w) => ({ op: 'set' as const, key: key(c, w), value: Buffer.from(`${c}/${w}`) })));
  for (let i = 0; i < ops.length; i += 5000) await client.batch(ops.slice(i, i + 5000));
  const prefixes = [...contexts, 'absent', 'ctx3'].map((c) => rangePrefix('m.p', Buffer.from(c)));
  const owners = new Set(prefixes.map((p) => client.map.lookup(p).owner));
  t.is(owners.size, 3, 'the prefixes are spread over the three actors');

  const many = await client.multiScan(prefixes, 1000);
  t.is(many.length, prefixes.length);
  for (let i = 0; i < prefixes.length; i++) {
    const got = many[i]!.map(({ key: k, value }) => `${k.toString('hex')}=${(value as Buffer).toString()}`);
    t.deepEqual(got, await scanned(client, prefixes[i]!), `prefix ${i}`);
  }
  t.is(many[contexts.length]!.length, 0, 'an absent range is empty');
  t.is(many.reduce((n, rows) => n + rows.length, 0), ops.length + sizes[3]!);

  // scan-packed: the same rows as key tails (the 6-byte word) and value heads (3 bytes), a range
  // past one reply's rows included (the decoder's store source reads its followers so).
  const packed = await client.multiScanPacked(prefixes, 6, 3, 3000);
  const rowsOf = (b: Buffer) => Array.from({ length: b.length / 9 }, (_, r) => b.subarray(r * 9, r * 9 + 9).toString()).sort();
  for (let i = 0; i < prefixes.length; i++) {
    const want = many[i]!.map(({ key: k, value }) => k.subarray(-6).toString() + (value as Buffer).subarray(0, 3).toString()).sort();
    t.deepEqual(rowsOf(packed[i]!), want, `packed prefix ${i}`);
  }
});

test('a scan-many reply is capped per range and in total, and a prefix spanning forks is refused', async (t) => {
  const actor = await spawnActor(t, 'scanmany');
  const client = await StoreClient.connect(actor.ep);
  t.teardown(() => client.close());
  const ops = ['a', 'b', 'c', 'd'].flatMap((c) => Array.from({ length: 6000 }, (_, w) => ({ op: 'set' as const, key: key(c, w), value: Buffer.from('v') })));
  for (let i = 0; i < ops.length; i += 5000) await client.batch(ops.slice(i, i + 5000));
  const prefixes = ['a', 'b', 'c', 'd'].map((c) => rangePrefix('m.p', Buffer.from(c)));
  const rep = await client.raw(actor.ep, 'scan-many', STORE_COMMANDS['scan-many'].encodeRequest({ prefixes, limit: 4000 }));
  t.is(rep.code, 'OK');
  const { ranges } = STORE_COMMANDS['scan-many'].decodeReply(rep.body);
  // 4000 rows a range, until the 10000 a reply carries are read; past them, one row a range.
  t.deepEqual(ranges.map((r) => r.keys.length), [4000, 4000, 2000, 1]);
  ranges.forEach((r, i) => t.deepEqual(r.next, r.keys[r.keys.length - 1], `range ${i} goes on from its last row`));
  const wide = await client.raw(actor.ep, 'scan-many', STORE_COMMANDS['scan-many'].encodeRequest({ prefixes: [prefixes[0]!, Buffer.alloc(0)], limit: 10 }));
  t.is(wide.code, 'CROSS_FORK');

  // scan-packed caps the same way, and refuses rows it cannot cut (a value shorter than asked).
  const cut = await client.raw(actor.ep, 'scan-packed', STORE_COMMANDS['scan-packed'].encodeRequest({ prefixes: prefixes.slice(0, 2), afters: [Buffer.alloc(0), Buffer.alloc(0)], limit: 4000, keyTail: 6, valueHead: 1 }));
  t.is(cut.code, 'OK');
  const packedRanges = STORE_COMMANDS['scan-packed'].decodeReply(cut.body).ranges;
  t.deepEqual(packedRanges.map((r) => r.rows.length / 7), [4000, 4000]);
  t.deepEqual(packedRanges[0]!.next, key('a', 3999));
  const short = await client.raw(actor.ep, 'scan-packed', STORE_COMMANDS['scan-packed'].encodeRequest({ prefixes: prefixes.slice(0, 1), afters: [Buffer.alloc(0)], limit: 10, keyTail: 6, valueHead: 2 }));
  t.is(short.code, 'BAD_REQUEST');
});
