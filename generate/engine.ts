// The typed API for Node users: open an engine on a model file or a store, then generate text,
// whole or streamed word by word. `dbslm generate` is this API on the command line.
//
//   const engine = await Engine.open({ file: 'kjv5.arpa' });          // or { connect: 'tcp://...', model: 'kjv5' }
//   // or the exact linear mixture of model files: { files: ['a.arpa', 'b.arpa'], weights: [0.3, 0.7] }
//   for await (const word of engine.stream({ prompt: 'In the beginning', seed: 7 })) process.stdout.write(word.token + ' ');
//   const { text } = await engine.generate({ prompt: 'In the beginning', maxTokens: 20 });
//   engine.close();
import { loadLanguageModel } from '../cli/io/load_model.js';
import type { LanguageModel } from '../model/language_model.js';
import { InputError } from '../model/errors.js';
import { UnionVocab } from '../model/mix/union_vocab.js';
import { mixtureWeights } from '../model/mix/weights.js';
import { seededRandom } from '../model/sample.js';
import { getTokenizer, parseTokenizerName, type TokenizerName } from '../model/tokenizer.js';
import type { StoreClient } from '../store/client/client.js';
import { backoffLevels } from './backoff_levels.js';
import { parseContextDimensions } from './context_dimensions.js';
import { ModelContextSource, type ContextFollowers, type ContextSource } from './context_source.js';
import { InMemoryConversationLog, type ConversationLog } from './conversation_log.js';
import { DEFAULT_MEMORY } from '../store/memory/conversation_keys.js';
import { checkControls, EXACT_CONTROLS, type Controls } from './controls.js';
import { Decoder, type StepDecoder } from './decoder.js';
import { MixtureDecoder, ModelMixture } from './mixture_decoder.js';
import { generateWords, startHistory, visibleText, type GeneratedWord, type VocabView } from './generate_text.js';
import { framePrompt, type FrameMode, type PromptParts } from './prompt_frame.js';
import type { SessionCache } from './session_cache.js';
import { DictionaryConcepts, mineConcepts } from './concept_mining.js';
import type { ConceptSource, SpeculationStats } from './speculative.js';
import type { StoreContextSource } from './store_source.js';

export type EngineOptions =
  | { file: string; tokenizer?: TokenizerName }
  | { lm: LanguageModel; tokenizer?: TokenizerName }
  /** The exact linear mixture of model files (or models): sum_i weights[i] p_i, weights uniform when absent. */
  | { files: readonly string[]; weights?: ArrayLike<number>; tokenizer?: TokenizerName }
  | { lms: readonly LanguageModel[]; weights?: ArrayLike<number>; tokenizer?: TokenizerName }
  | { connect: string; model?: string; timeoutMs?: number; tokenizer?: TokenizerName };

export interface GenerateRequest extends Partial<PromptParts> {
  maxTokens?: number;
  minTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  /** Repeatable output: the same seed and request give the same words, from a file or a store. */
  seed?: number;
  stop?: readonly string[];
  bannedWords?: readonly string[];
  /** Natural-log bias per word. */
  logitBias?: Readonly<Record<string, number>>;
  presencePenalty?: number;
  frequencyPenalty?: number;
  repeatPenalty?: number;
  /** Windows of the repeat penalty: "1-2,3-5" or "4,8,4" (context_dimensions.ts). */
  contextDimensions?: string;
  /** auto (default): frame as |USER|: ... |RESPONSE|: when the model was trained on pairs. */
  frame?: FrameMode;
  /** Level 3: draft concept spans and verify them speculatively (same distribution, fewer store round trips). */
  concepts?: boolean;
}

export interface Generated {
  text: string;
  words: GeneratedWord[];
}

/** What an engine is made of, for a file, a mixture of files, or a store. */
interface EngineParts {
  /** The one model's followers (undefined for a mixture, which is no backoff model). */
  source: ContextSource | undefined;
  /** A decoder drawing from the model (or the mixture) with this random stream. */
  decoder: (random: () => number) => StepDecoder;
  /** The unigram level (p(w) with no context), for templates. */
  unigrams: () => Promise<ContextFollowers | null>;
  vocab: () => VocabView;
  tokenizer: TokenizerName;
  close: () => void;
  /** Re-reads the model's version (a store model written again drops its caches); resolves true then. */
  refresh: () => Promise<boolean>;
  /** Starts reading the contexts of `history` (a store's cache fills; nothing to do for a file). */
  prefetch: (history: readonly number[]) => void;
  conversationLog: (memory?: string) => Promise<ConversationLog>;
  /** Level 3's concept dictionary (mined in memory for a file, read from the store). */
  concepts: () => Promise<ConceptSource>;
}

/** Cumulative figures of an engine's generations. */
export interface EngineStats {
  tokens: number;
  /** Sequential lookup rounds that asked the store. */
  rounds: number;
  speculation: SpeculationStats;
}

export class Engine {
  readonly stats: EngineStats = { tokens: 0, rounds: 0, speculation: { drafts: 0, drafted: 0, accepted: 0 } };
  /** The model's followers (undefined for a mixture of models). */
  readonly source: ContextSource | undefined;
  readonly vocab: () => VocabView;
  readonly tokenizer: TokenizerName;
  /** Where this engine's conversations persist, by memory name (conversation_log.ts). */
  readonly conversationLog: (memory?: string) => Promise<ConversationLog>;
  private conceptSource: Promise<ConceptSource> | undefined;
  private unigrams: ContextFollowers | undefined;

  private constructor(private readonly parts: EngineParts) {
    this.source = parts.source;
    this.vocab = parts.vocab;
    this.tokenizer = parts.tokenizer;
    this.conversationLog = parts.conversationLog;
  }

  private refresh(): Promise<void> {
    return this.parts.refresh().then((changed) => {
      if (changed) this.conceptSource = undefined;
    });
  }

  static async open(opts: EngineOptions): Promise<Engine> {
    if ('files' in opts || 'lms' in opts) return Engine.mixture(opts, opts.weights, opts.tokenizer);
    if ('file' in opts || 'lm' in opts) {
      // An ARPA file (*.gz too); its errors name the file and line.
      const lm = 'lm' in opts ? opts.lm : loadLanguageModel(opts.file);
      const log = new InMemoryConversationLog();
      const source = new ModelContextSource(lm);
      return new Engine({
        source,
        decoder: (random) => new Decoder(source, random),
        unigrams: () => source.followers([]),
        vocab: () => lm.vocab,
        tokenizer: opts.tokenizer ?? 'whitespace',
        close: () => undefined,
        refresh: async () => false,
        prefetch: () => undefined,
        conversationLog: async () => log,
        concepts: async () => new DictionaryConcepts(mineConcepts(lm), lm.order),
      });
    }
    // Loaded only for stores: the client pulls in ZeroMQ.
    const { StoreClient } = await import('../store/client/client.js');
    const { StoreContextSource } = await import('./store_source.js');
    let client: StoreClient;
    try {
      client = await StoreClient.connect(opts.connect, { timeoutMs: opts.timeoutMs ?? 10000, retries: 3 });
    } catch (err) {
      throw new InputError(`no store answers at ${opts.connect}: ${(err as Error).message}`, undefined, undefined, 'start one with `dbslm store start` or `dbslm pipeline run`, or pass the endpoint of a running member to --connect');
    }
    let source: StoreContextSource;
    try {
      source = await StoreContextSource.open(client, opts.model ?? 'default', opts.connect);
    } catch (err) {
      client.close();
      throw err;
    }
    const tokenizer = opts.tokenizer ?? parseTokenizerName(source.meta.tokenizer);
    const conversations = async (memory = DEFAULT_MEMORY) => new (await import('../store/memory/store_conversation_log.js')).StoreConversationLog(client, memory, `the store at ${opts.connect}`);
    const model = opts.model ?? 'default';
    const concepts = async () => (await import('../store/model/concepts.js')).StoreConcepts.open(client, model, source.order, source.meta.version, opts.connect);
    return new Engine({
      source,
      decoder: (random) => new Decoder(source, random),
      unigrams: () => source.followers([]),
      vocab: () => source.vocab,
      tokenizer,
      close: () => client.close(),
      refresh: () => source.refresh(),
      // Errors are left to the lookups that need the contexts: a hint fails silently.
      prefetch: (history) => void backoffLevels(source, history).catch(() => undefined),
      conversationLog: conversations,
      concepts,
    });
  }

  /**
   * The exact mixture of model files (mixture_decoder.ts); words are ids of the union vocabulary.
   * One model alone is that model's engine: the same words for the same seed as { file }.
   */
  private static async mixture(opts: { files: readonly string[] } | { lms: readonly LanguageModel[] }, weights?: ArrayLike<number>, tokenizer?: TokenizerName): Promise<Engine> {
    const count = 'files' in opts ? opts.files.length : opts.lms.length;
    if (count === 0) throw new InputError('a mixture needs at least one model');
    // Checked before any model loads: the same errors as ppl's and sample's --weights.
    const lambda = mixtureWeights(count, weights === undefined ? undefined : Array.from(weights));
    if (count === 1) return Engine.open('files' in opts ? { file: opts.files[0]!, tokenizer } : { lm: opts.lms[0]!, tokenizer });
    const union = new UnionVocab('files' in opts ? opts.files.map((file) => loadLanguageModel(file)) : opts.lms);
    const mixture = new ModelMixture(union, lambda);
    const log = new InMemoryConversationLog();
    return new Engine({
      source: undefined,
      decoder: (random) => new MixtureDecoder(mixture, random),
      unigrams: () => mixture.unigrams(),
      vocab: () => union.vocab,
      tokenizer: tokenizer ?? 'whitespace',
      close: () => undefined,
      refresh: async () => false,
      prefetch: () => undefined,
      conversationLog: async () => log,
      concepts: async () => {
        throw new InputError('concept spans (--concepts) are mined from one model; a mixture of models has none', undefined, undefined, 'leave out --concepts: it only saves store round trips, and the text is the same without it');
      },
    });
  }

  /** The controls of a request, checked; unknown banned or biased words are errors naming them. */
  controls(request: GenerateRequest): Controls {
    const vocab = this.vocab();
    const known = (word: string, what: string) => {
      const id = vocab.lookup(word);
      if (id === 0 && word !== '<unk>') throw new InputError(`${what} "${word}" is not in the model's vocabulary`);
      return id;
    };
    return checkControls({
      ...EXACT_CONTROLS,
      temperature: request.temperature ?? 1,
      topK: request.topK ?? 0,
      topP: request.topP ?? 1,
      minP: request.minP ?? 0,
      banned: new Set((request.bannedWords ?? []).map((w) => known(w, 'banned word'))),
      logitBias: new Map(Object.entries(request.logitBias ?? {}).map(([w, b]) => [known(w, 'biased word'), b])),
      presencePenalty: request.presencePenalty ?? 0,
      frequencyPenalty: request.frequencyPenalty ?? 0,
      repeatPenalty: request.repeatPenalty ?? 1,
      contextWindows: request.contextDimensions ? parseContextDimensions(request.contextDimensions) : EXACT_CONTROLS.contextWindows,
    });
  }

  /** log10 p of a word's unigram (-Infinity for words the model does not know), from the cached unigram level. */
  unigramLog10(id: number, word: string): number {
    if (id === 0 && word !== '<unk>') return -Infinity;
    const unigrams = this.unigrams;
    if (!unigrams) return -Infinity;
    const at = unigrams.words.indexOf(id);
    return at < 0 ? -Infinity : unigrams.logProbs[at]!;
  }

  /** The unigram level, read once (templates rank words by it). */
  async loadUnigrams(): Promise<void> {
    this.unigrams = (await this.parts.unigrams()) ?? undefined;
  }

  /** The words of a text as the model's tokenizer splits them. */
  tokenize(text: string): string[] {
    return getTokenizer(this.tokenizer)(text);
  }

  /**
   * The words of one generation as they are drawn. `memory` (Level 2, conversation.ts): a session
   * cache mixed in, and a logit bias added to the request's (corrections).
   */
  async *stream(request: GenerateRequest, decoder?: StepDecoder, memory?: { cache?: SessionCache; bias?: ReadonlyMap<number, number> }): AsyncGenerator<GeneratedWord> {
    // The version check is a store round trip before the first word; the first position's contexts
    // are asked for beside it rather than after it. They are framed with the vocabulary in hand: a
    // model written again since (rare) drops the cache, these reads with it, and the prompt is
    // framed again below with the new vocabulary.
    const checked = this.refresh();
    try {
      this.parts.prefetch(startHistory(this.framed(request)));
    } catch {
      // A prompt that does not frame fails below, where it is framed for the generation.
    }
    await checked;
    const controls = this.controls(request);
    if (memory?.bias?.size) {
      const bias = new Map(controls.logitBias);
      for (const [w, b] of memory.bias) bias.set(w, (bias.get(w) ?? 0) + b);
      controls.logitBias = bias;
    }
    const maxTokens = request.maxTokens ?? 40;
    const minTokens = request.minTokens ?? 0;
    if (!(Number.isInteger(maxTokens) && maxTokens >= 1)) throw new InputError(`max tokens must be a whole number >= 1, got ${maxTokens}`);
    if (!(Number.isInteger(minTokens) && minTokens >= 0 && minTokens <= maxTokens)) throw new InputError(`min tokens must be a whole number from 0 to max tokens (${maxTokens}), got ${minTokens}`);
    const context = this.framed(request);
    const draw = decoder ?? this.parts.decoder(seededRandom(request.seed ?? Math.floor(Math.random() * 2 ** 32)));
    const concepts = request.concepts ? await (this.conceptSource ??= this.parts.concepts()) : undefined;
    const roundsBefore = draw.stats.rounds;
    try {
      for await (const word of generateWords(draw, this.vocab(), context, { controls, maxTokens, minTokens, stopStrings: request.stop ?? [], cache: memory?.cache, concepts, speculation: this.stats.speculation })) {
        this.stats.tokens++;
        yield word;
      }
    } finally {
      this.stats.rounds += draw.stats.rounds - roundsBefore;
    }
  }

  /** The request's prompt as the model's words, framed (prompt_frame.ts). */
  private framed(request: GenerateRequest): number[] {
    return framePrompt(this.vocab(), getTokenizer(this.tokenizer), { prompt: request.prompt ?? '', instruction: request.instruction, contexts: request.contexts }, request.frame ?? 'auto');
  }

  /** One generation, whole. */
  async generate(request: GenerateRequest): Promise<Generated> {
    const words: GeneratedWord[] = [];
    for await (const word of this.stream(request)) words.push(word);
    return { text: visibleText(words, request.stop ?? []), words };
  }

  /** `n` independent generations from one seeded stream (the same seed gives the same n texts). */
  async generateMany(request: GenerateRequest, n: number): Promise<Generated[]> {
    const decoder = this.parts.decoder(seededRandom(request.seed ?? Math.floor(Math.random() * 2 ** 32)));
    const out: Generated[] = [];
    for (let i = 0; i < n; i++) {
      const words: GeneratedWord[] = [];
      for await (const word of this.stream(request, decoder)) words.push(word);
      out.push({ text: visibleText(words, request.stop ?? []), words });
    }
    return out;
  }

  close(): void {
    this.parts.close();
  }
}
