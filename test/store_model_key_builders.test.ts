// The one-allocation key builders the smoothing uses (ContextPrefixes, statsKeyOfPrefix) give
// exactly the bytes of the general ones (contextPrefix, topkKey, statsKey), and the family reader of the
// statistics (ContextRangeReader over every order) reads each order's ranges as a reader of that
// order does, skipping another model whose name shares the family's leading bytes. Pure, no store.
import test from 'ava';
import { seededRandom } from '../model/sample.js';
import { ContextPrefixes, contextPrefix, topkKey } from '../store/model/layout.js';
import { ContextRangeReader, type ContextRange } from '../store/model/smooth/context_ranges.js';
import { leftKey, rawKey, statsKey, statsKeyOfPrefix, contextBytes } from '../store/model/stat_keys.js';

test('ContextPrefixes.of equals contextPrefix, also from a later word on', (t) => {
  const random = seededRandom(7);
  const prefixes = new ContextPrefixes('kjv5');
  for (let n = 0; n < 200; n++) {
    const ids = Array.from({ length: Math.floor(random() * 5) }, () => Math.floor(random() * 2 ** 32));
    t.deepEqual(prefixes.of(ids), contextPrefix('kjv5', ids));
    if (ids.length) t.deepEqual(prefixes.of(ids, 1), contextPrefix('kjv5', ids.slice(1)));
    if (ids.length) t.deepEqual(prefixes.of(ids, 0, ids.length - 1), contextPrefix('kjv5', ids.slice(0, -1)));
  }
});

test('ContextPrefixes of kind topk equals topkKey, of a whole context and of its suffix', (t) => {
  const random = seededRandom(8);
  const heads = new ContextPrefixes('kjv5', 'topk');
  for (let n = 0; n < 200; n++) {
    const ids = Array.from({ length: Math.floor(random() * 5) }, () => Math.floor(random() * 2 ** 32));
    t.deepEqual(heads.of(ids), topkKey('kjv5', ids));
    if (ids.length) t.deepEqual(heads.of(ids, 1), topkKey('kjv5', ids.slice(1)));
  }
});

test('statsKeyOfPrefix equals statsKey for contexts of 1 to 4 words, multi-byte words included', (t) => {
  const words = ['the', 'LORD', 'ἀρχῇ', '<s>', 'a', 'x'.repeat(300)];
  for (let k = 1; k <= 4; k++) {
    for (let i = 0; i + k <= words.length; i++) {
      const context = words.slice(i, i + k);
      t.deepEqual(statsKeyOfPrefix('m.1', contextBytes(context)), statsKey('m.1', context));
    }
  }
  t.throws(() => statsKeyOfPrefix('m', Buffer.from('no-nul')), { message: /routing prefix/ });
});

/** Ranges (context, followers' words and LEFT counts) a reader makes of `keys` fed in key order, in pages of 3. */
function rangesOf(reader: ContextRangeReader, keys: Buffer[]): string[] {
  const sorted = [...keys].sort(Buffer.compare);
  const out: ContextRange[] = [];
  for (let i = 0; i < sorted.length; i += 3) {
    const page = sorted.slice(i, i + 3);
    out.push(...reader.push(page, page.map((k) => (k.includes(Buffer.of(0, 1)) ? 2n : Buffer.alloc(0)))));
  }
  const last = reader.end();
  if (last) out.push(last);
  return out.map((r) => `${r.context.join(' ')}|${r.prefix.toString('hex')}|${r.followers.map((f) => `${f.word}:${f.left}:${f.raw}`).join(',')}`).sort();
}

test('the family reader gives every order its ranges, as one reader per order does, and skips another model', (t) => {
  const keys = [
    rawKey('m', ['a', 'b']),
    leftKey('m', ['a', 'b'], 'x'),
    leftKey('m', ['a', 'b'], 'y'),
    leftKey('m', ['b'], 'a'),
    leftKey('m', ['c'], 'a'),
    rawKey('m', ['a', 'b', 'c']),
    leftKey('m', ['a', 'b', 'c'], 'z'),
    rawKey('m', ['q', 'b', 'c']),
  ];
  const other = [rawKey('m.stats', ['a', 'b']), leftKey('mx', ['a', 'b'], 'x')];
  const perOrder = [1, 2, 3].flatMap((k) => rangesOf(new ContextRangeReader('m', k), keys.filter((key) => key.includes(Buffer.from(`m.stat${k}\0`))))).sort();
  t.deepEqual(rangesOf(new ContextRangeReader('m', null), [...keys, ...other]), perOrder);
  t.is(perOrder.length, 4); // the unigrams, "a", "a b" and "q b"
});
