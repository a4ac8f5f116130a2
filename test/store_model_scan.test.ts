// The scan's namespace filter on a real actor: a namespace read across every fork gets its own keys
// and no others (not even a namespace its name is a prefix of), page by page; a family of
// namespaces is read in one pass; and a fork full of other rows is crossed in several replies
// rather than in one long one.
import test from 'ava';
import { STORE_COMMANDS } from '../schemas/store.js';
import { StoreClient } from '../store/client/client.js';
import { scanNamespace } from '../store/model/namespace_scan.js';
import { makeKey, routingBytes } from '../store/protocol/keys.js';
import { spawnActor } from './helpers/store_procs.js';

const key = (ns: string, prefix: string, rest: string) => makeKey(ns, Buffer.from(prefix), Buffer.from(rest));

test('a namespace scan returns exactly the namespace, across forks and pages', async (t) => {
  const actor = await spawnActor(t, 'nsscan');
  const client = await StoreClient.connect(actor.ep);
  t.teardown(() => client.close());
  const ours = Array.from({ length: 3000 }, (_, i) => key('m.p', `ctx${i % 700}`, `w${i}`));
  // Namespaces that differ from "m.p" only after its bytes, or that it is a prefix of.
  const others = [...Array.from({ length: 3000 }, (_, i) => key('m.pp', `ctx${i % 700}`, `w${i}`)), ...Array.from({ length: 2000 }, (_, i) => key('m', `.p${i}`, 'x')), ...Array.from({ length: 2000 }, (_, i) => key('other', `c${i}`, 'x'))];
  await client.batch([...ours, ...others].map((k, i) => ({ op: 'set' as const, key: k, value: Buffer.from(`v${i}`) })));
  // Whole rows come packed (store/protocol/packed_rows.ts): counters, negative ones too, and empty values as well.
  const counters = [key('m.p', 'cnt', 'neg'), key('m.p', 'cnt', 'big')];
  await client.incr(counters[0]!, -5);
  await client.incr(counters[1]!, 2 ** 40 + 3);
  const empty = key('m.p', 'empty', 'x');
  await client.set(empty, Buffer.alloc(0));
  const want = new Map<string, string>([
    ...ours.map((k, i) => [k.toString('hex'), `v${i}`] as const),
    [counters[0]!.toString('hex'), '-5'],
    [counters[1]!.toString('hex'), String(2 ** 40 + 3)],
    [empty.toString('hex'), ''],
  ]);

  const seen = new Map<string, string>();
  let pages = 0;
  const n = await scanNamespace(
    client,
    'm.p',
    (keys, values) => {
      pages++;
      keys.forEach((k, i) => seen.set(k.toString('hex'), typeof values[i] === 'bigint' ? String(values[i]) : (values[i] as Buffer).toString()));
    },
    { pageSize: 100 },
  );
  t.is(n, want.size);
  t.deepEqual([...seen].sort(), [...want].sort());
  t.true(pages >= 30, `${pages} pages of at most 100`);

  let keysOnly = 0;
  await scanNamespace(client, 'm.pp', (keys, values) => {
    keysOnly += keys.length;
    t.true(values.every((v) => v === undefined));
  }, { keysOnly: true });
  t.is(keysOnly, 3000);

  // A family: every namespace starting with "m." (not "m" itself, whose keys begin "m\0.p"): m.p's 3000
  // keys with its counters and empty value, and m.pp's 3000.
  let family = 0;
  await scanNamespace(client, 'm.', (keys) => (family += keys.length), { keysOnly: true, family: true });
  t.is(family, 6000 + 3);

  // An unfiltered scan is unchanged: the prefix's keys of every namespace.
  const range = makeKey('m.pp', Buffer.from('ctx1'));
  let plain = 0;
  for await (const _ of client.scan(range)) plain++;
  t.is(plain, 5); // w1, w701, w1401, w2101, w2801
});

test('a filtered reply examines a bounded number of rows: a fork of other rows is crossed with a cursor', async (t) => {
  t.timeout(120000);
  const actor = await spawnActor(t, 'nsbudget');
  const client = await StoreClient.connect(actor.ep, { timeoutMs: 30000 });
  t.teardown(() => client.close());
  // 150k rows of one routing prefix fill one fork; then one key of "m.p" in that fork, after them.
  const other = Array.from({ length: 150000 }, (_, i) => makeKey('bulk', Buffer.from('one'), Buffer.from(i.toString().padStart(6, '0'))));
  for (let i = 0; i < other.length; i += 30000) await client.batch(other.slice(i, i + 30000).map((k) => ({ op: 'set' as const, key: k, value: Buffer.from('x') })));
  const fork = routingBytes('bulk', Buffer.from('one')).subarray(0, 1);
  let prefix = '';
  for (let i = 0; ; i++) {
    const r = routingBytes('m.p', Buffer.from(`c${i}`));
    if (r[0] === fork[0] && Buffer.compare(r, routingBytes('bulk', Buffer.from('one'))) > 0) {
      prefix = `c${i}`;
      break;
    }
  }
  const ours = key('m.p', prefix, 'w');
  await client.set(ours, Buffer.from('found'));

  const ep = actor.ep;
  const replies: { keys: number; next: boolean }[] = [];
  let after: Buffer | null = null;
  do {
    const rep = await client.raw(ep, 'scan', STORE_COMMANDS.scan.encodeRequest({ prefix: Buffer.from(fork), after, limit: 10000, keysOnly: false, namespace: Buffer.from('m.p') }));
    t.is(rep.code, 'OK', rep.message);
    const page = STORE_COMMANDS.scan.decodeReply(rep.body);
    replies.push({ keys: page.keys.length, next: page.next !== null });
    if (page.keys.length) t.true(page.keys[0]!.equals(ours));
    after = page.next;
  } while (after);
  // Each reply examines at most twice its limit (20k rows here; 100k at most): the 150k other rows
  // take several replies with no keys and a cursor, then the one key of m.p ends the scan.
  t.deepEqual(replies[replies.length - 1], { keys: 1, next: false });
  t.true(replies.slice(0, -1).every((r) => r.keys === 0 && r.next));
  t.true(replies.length >= 2 && replies.length <= Math.ceil(150001 / 20000) + 1, `${replies.length} replies`);

  let found = 0;
  await scanNamespace(client, 'm.p', (keys) => (found += keys.length));
  t.is(found, 1);
});
