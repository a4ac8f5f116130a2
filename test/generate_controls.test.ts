// Each sampling control transforms the distribution as generate/controls.ts documents, and the
// generation loop stops where it should (stop words, min and max tokens, stop strings).
import test from 'ava';
import { applyControls, checkControls, EXACT_CONTROLS } from '../generate/controls.js';
import { parseContextDimensions } from '../generate/context_dimensions.js';
import { ModelContextSource } from '../generate/context_source.js';
import { Decoder } from '../generate/decoder.js';
import { generateWords, visibleText, type GeneratedWord } from '../generate/generate_text.js';
import { seededRandom } from '../model/sample.js';
import { BOS, EOS } from '../model/vocab.js';
import { buildFromText } from './helpers/corpus.js';

const close = (t: import('ava').ExecutionContext, actual: ArrayLike<number>, expected: number[]) => {
  t.is(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) t.true(Math.abs(actual[i]! - expected[i]!) < 1e-12, `[${i}] ${actual[i]} vs ${expected[i]}`);
};

test('temperature, bias, bans and penalties transform p as documented', (t) => {
  const base = () => Float64Array.from([0.5, 0.3, 0.2, 0]);
  close(t, applyControls(base(), { ...EXACT_CONTROLS, temperature: 0.5 }, []), [0.25, 0.09, 0.04, 0].map((x) => x / 0.38));
  close(t, applyControls(base(), { ...EXACT_CONTROLS, temperature: 0 }, []), [1, 0, 0, 0]);
  close(t, applyControls(base(), { ...EXACT_CONTROLS, banned: new Set([0]) }, []), [0, 0.6, 0.4, 0]);
  close(t, applyControls(base(), { ...EXACT_CONTROLS, logitBias: new Map([[2, Math.log(2.5)]]) }, []), [0.5, 0.3, 0.5, 0].map((x) => x / 1.3));
  // frequency 0.5 x 2 occurrences + presence 1 on word 0: ln p - 2.
  const penalised = 0.5 * Math.exp(-2);
  close(t, applyControls(base(), { ...EXACT_CONTROLS, frequencyPenalty: 0.5, presencePenalty: 1 }, [0, 0]), [penalised, 0.3, 0.2, 0].map((x) => x / (penalised + 0.5)));
  // Repeat penalty 4 over windows 1-1 and 2-3: word 1 (last) / 4, word 2 (two back) / 4^(1/2).
  const repeated = applyControls(base(), { ...EXACT_CONTROLS, repeatPenalty: 4, contextWindows: parseContextDimensions('1-1,2-3') }, [2, 1]);
  close(t, repeated, [0.5, 0.075, 0.1, 0].map((x) => x / 0.675));
  t.throws(() => applyControls(base(), { ...EXACT_CONTROLS, banned: new Set([0, 1, 2]) }, []), { message: /no word with probability above 0/ });
});

test('top-k, top-p and min-p keep the most probable words and renormalise', (t) => {
  const base = () => Float64Array.from([0.1, 0.4, 0.25, 0.25]);
  close(t, applyControls(base(), { ...EXACT_CONTROLS, topK: 2 }, []), [0, 0.4 / 0.65, 0.25 / 0.65, 0]);
  close(t, applyControls(base(), { ...EXACT_CONTROLS, topP: 0.5 }, []), [0, 0.4 / 0.65, 0.25 / 0.65, 0]);
  close(t, applyControls(base(), { ...EXACT_CONTROLS, topP: 0.4 }, []), [0, 1, 0, 0]);
  close(t, applyControls(base(), { ...EXACT_CONTROLS, minP: 0.5 }, []), [0, 0.4 / 0.9, 0.25 / 0.9, 0.25 / 0.9]);
  // top-p measures against what top-k kept, {0.4, 0.25}: 0.6 of it is reached by 0.4 alone, 0.7 needs both.
  close(t, applyControls(base(), { ...EXACT_CONTROLS, topK: 2, topP: 0.6 }, []), [0, 1, 0, 0]);
  close(t, applyControls(base(), { ...EXACT_CONTROLS, topK: 2, topP: 0.7 }, []), [0, 0.4 / 0.65, 0.25 / 0.65, 0]);
});

test('bad control values are errors that name the control and its range', (t) => {
  t.throws(() => checkControls({ ...EXACT_CONTROLS, topP: 0 }), { message: /top-p must be in \(0, 1\]/ });
  t.throws(() => checkControls({ ...EXACT_CONTROLS, temperature: -1 }), { message: /temperature must be a number >= 0/ });
  t.throws(() => checkControls({ ...EXACT_CONTROLS, topK: 1.5 }), { message: /top-k must be a whole number/ });
  t.deepEqual(parseContextDimensions('4,8,4'), [{ from: 1, to: 4 }, { from: 5, to: 12 }, { from: 13, to: 16 }]);
  t.deepEqual(parseContextDimensions('1-2,3-5'), [{ from: 1, to: 2 }, { from: 3, to: 5 }]);
  t.throws(() => parseContextDimensions('1-2,4'), { message: /mixes ranges and lengths/ });
  t.throws(() => parseContextDimensions('3-1'), { message: /1 <= first <= last/ });
});

const { lm } = buildFromText('a b c\na c |END|\nb a c\nc\na b\nb b a |END|\nc a b a\n|USER|: a b |RESPONSE|: c |END|\n', 3, true);
const decoder = () => new Decoder(new ModelContextSource(lm), seededRandom(3));
const collect = async (gen: AsyncGenerator<GeneratedWord>) => {
  const out: GeneratedWord[] = [];
  for await (const w of gen) out.push(w);
  return out;
};

test('generation stops at </s> or |END|, never before min tokens, never past max tokens', async (t) => {
  const d = decoder();
  for (let i = 0; i < 50; i++) {
    const words = await collect(generateWords(d, lm.vocab, [BOS], { controls: EXACT_CONTROLS, maxTokens: 6, minTokens: 3, stopStrings: [] }));
    t.true(words.length >= 3 && words.length <= 6, `${words.length} words`);
    t.false(words.some((w) => w.id === EOS || w.token === '|END|'));
  }
  t.true(d.stats.fullSteps > 0, 'the min-tokens ban takes the controlled path');
});

test('markers are never visible, and a stop string ends the text before it', async (t) => {
  const d = decoder();
  const words = await collect(generateWords(d, lm.vocab, [BOS, lm.vocab.lookup('|USER|:')], { controls: EXACT_CONTROLS, maxTokens: 200, minTokens: 0, stopStrings: [] }));
  t.false(visibleText(words).includes('|'), visibleText(words));
  const stopped = await collect(generateWords(decoder(), lm.vocab, [BOS], { controls: { ...EXACT_CONTROLS, banned: new Set([EOS, lm.vocab.lookup('|END|')]) }, maxTokens: 100, minTokens: 0, stopStrings: ['c'] }));
  t.is(stopped[stopped.length - 1]!.token, 'c', 'the word completing the stop string is the last');
  t.false(visibleText(stopped, ['c']).includes('c'));
});
