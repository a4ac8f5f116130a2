// `npm run bench:cache [TRAIN TEST ORDER]`: Level 2's session cache on running text. Builds the
// model in-process (default: order 5 of ../shared/corpora/kjv.train.txt), reads the test text
// (kjv.test.txt) as one running conversation, tunes the cache's weight and decay on its first
// fifth, and prints the perplexity of the other four fifths with and without the cache.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModel } from '../model/build.js';
import { decodeUtf8, IdStream, readWhitespace } from '../model/corpus_read.js';
import { lineToIds } from '../model/line_ids.js';
import { tokenizeWhitespace } from '../model/tokenizer.js';
import { Vocab } from '../model/vocab.js';
import { runningPerplexity, tuneCache } from '../generate/cache_scoring.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const corpora = path.join(root, '..', 'shared', 'corpora');
const train = process.argv[2] ?? path.join(corpora, 'kjv.train.txt');
const testFile = process.argv[3] ?? path.join(corpora, 'kjv.test.txt');
const order = Number(process.argv[4] ?? 5);
if (!fs.existsSync(train) || !fs.existsSync(testFile)) {
  console.log(`bench:cache needs ${train} and ${testFile} (../shared beside the clone); absent, so nothing was measured.`);
  process.exit(0);
}
const vocab = new Vocab();
const ids = new IdStream();
readWhitespace(decodeUtf8(fs.readFileSync(train), train), train, vocab, ids);
const { lm } = buildModel(ids.view, vocab, { order });
const lines = fs.readFileSync(testFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => lineToIds(lm.vocab, tokenizeWhitespace, l));
const cut = Math.floor(lines.length / 5);
const t0 = performance.now();
const tuned = tuneCache(lm, lines.slice(0, cut));
const scored = lines.slice(cut);
const without = runningPerplexity(lm, scored, null);
const withCache = runningPerplexity(lm, scored, tuned.params);
console.log(`order ${order} of ${path.basename(train)}; ${path.basename(testFile)} as one conversation: tuned on its first ${cut} lines (${((performance.now() - t0) / 1000).toFixed(1)} s): weight ${tuned.params.weight}, decay ${tuned.params.decay}`);
console.log(`perplexity of the other ${scored.length} lines (${without.tokens} tokens, OOVs included): ${without.includingOov.toFixed(2)} without the cache, ${withCache.includingOov.toFixed(2)} with it (${((1 - withCache.includingOov / without.includingOov) * 100).toFixed(1)}% lower)`);
