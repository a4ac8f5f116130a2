// What a pipeline YAML file may say: ONE zod schema, with the defaults it fills in. The TypeScript
// types of a parsed file (PipelineSpec and its parts) are inferred from it, never written twice.
// resolve.ts turns a spec into the PipelineDefinition the runtime consumes (absolute paths,
// every stage with its inputs, the store's actors).
//
// Every schema carries the text of what it expects ("an integer >= 1"), so a problem reads
// `stages.count.workers: expected an integer >= 1, got "two"` (schema_problems.ts adds the "got");
// the refinements' (custom) messages are whole sentences.
// Checks that need two fields of one map (store.actors vs store.join) are refinements here;
// checks across sections (topology, hosts) live in topology.ts and placement.ts.
import { z } from 'zod';
import { MAX_ORDER } from '../../model/build.js';
import { TOKENIZER_NAMES } from '../../model/tokenizer.js';

/** The stages in their canonical order: a stage reads from the previous present one by default. */
export const STAGE_NAMES = ['read', 'split', 'parse', 'embed', 'count', 'smooth', 'materialise', 'evaluate', 'requeue'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Stages every pipeline runs, listed under `stages:` or not; the others run only when listed. */
export const CORE_STAGES: readonly StageName[] = ['read', 'split', 'count', 'smooth', 'materialise'];

/** The one stage whose output may feed back into an earlier stage (the only cycles allowed). */
export const FEEDBACK_STAGE: StageName = 'requeue';

export const DEFAULT_ORDER = 3;
export const DEFAULT_BATCH = 1000;
export const DEFAULT_TOPK_K = 32;
export const DEFAULT_TOPK_BITS = 8;

/** Names of pipelines, hosts and store actors: they become file names and actor ids. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const PORT = String.raw`(?:\*|6553[0-5]|655[0-2]\d|65[0-4]\d{2}|6[0-4]\d{3}|[1-5]\d{4}|\d{1,4})`;
/** `ipc://PATH`, or `tcp://HOST:PORT` with PORT from 0 to 65535 (0 or `*`: any free port); HOST may be `[v6]`. */
export const ENDPOINT_RE = new RegExp(String.raw`^(?:ipc://\S+|tcp://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):${PORT})$`);

/** Cross-field refinements run only on values whose fields are valid (else they would compare nonsense). */
const WHEN_FIELDS_VALID = { when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0 };

const expecting = (text: string) => ({ error: text });

/** A map with exactly these fields; an unknown field's problem lists the known ones (see schema_problems.ts). */
function fields<S extends z.ZodRawShape>(what: string, shape: S) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, { error: (issue) => (issue.code === 'unrecognized_keys' ? known : `a map (${what})`) });
}

/** A map-valued section that may be written empty (`count:` with nothing after it means "defaults"). */
function emptyIsDefaults<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === null ? {} : v), schema);
}

function integer(min: number, max?: number) {
  const text = max === undefined ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  const int = z.int(expecting(text)).min(min, expecting(text));
  return max === undefined ? int : int.max(max, expecting(text));
}

const boolean = () => z.boolean(expecting('true or false'));
const nonEmptyString = (text: string) => z.string(expecting(text)).min(1, expecting(text));
const name = (text: string) => z.string(expecting(text)).regex(NAME_RE, expecting(text));

const ENDPOINT_TEXT = 'an endpoint ipc://PATH or tcp://HOST:PORT (PORT from 0 to 65535, or * for any free port)';
export const EndpointSchema = z.string(expecting(ENDPOINT_TEXT)).regex(ENDPOINT_RE, expecting(ENDPOINT_TEXT));

export const StageNameSchema = z.enum(STAGE_NAMES, expecting(`a stage name (${STAGE_NAMES.join(', ')})`));

export const InputSchema = fields('an input: path, format, config', {
  /** A file, a directory (its files, recursively, in name order; hidden ones skipped), or `-` for standard input; *.gz is unzipped. */
  path: nonEmptyString('a path (a file, a directory, or - for standard input)'),
  /** `text`: one sentence per line. `ndjson`: one JSON record per line, made text by a dataset config. Default: ndjson for *.ndjson and *.jsonl (also .gz), text otherwise. */
  format: z.enum(['text', 'ndjson'], expecting('text or ndjson')).optional(),
  /** The dataset config of an NDJSON input. Default: found beside the data (dataset_config.ts, findDatasetConfig). */
  config: nonEmptyString('a path to a dataset config (.config.json)').optional(),
}).superRefine((input, ctx) => {
  if (input.config !== undefined && input.format === 'text') {
    ctx.addIssue({ code: 'custom', path: ['config'], message: 'a dataset config is only for ndjson inputs, and this input has format: text' });
  }
  if (input.path === '-' && input.format === 'ndjson' && input.config === undefined) {
    ctx.addIssue({ code: 'custom', path: ['config'], message: 'NDJSON on standard input needs a dataset config (there is no file name to find one beside)' });
  }
}, WHEN_FIELDS_VALID);

/** A stage's `input`: one stage name, or a list of them. */
export const StageInputSchema = z.preprocess(
  (v) => (typeof v === 'string' ? [v] : v),
  z.array(StageNameSchema, expecting('a stage name or a list of stage names')).min(1, expecting('a stage name or a non-empty list of stage names')),
);

/** The options every stage has. */
const stageFields = {
  /** Parallel actors running this stage (worker threads, or threads of the host's worker process). */
  workers: integer(1).default(1),
  /** Items per message between stages: lines for read, split and parse; sentences for embed and count; n-grams after that. */
  batch: integer(1).default(DEFAULT_BATCH),
  /** A host declared under `hosts:` whose `dbslm pipeline worker --name HOST` runs this stage; default: the machine running the pipeline. */
  host: name('a host name declared under hosts').optional(),
  /**
   * The stage(s) this one reads from; default: the previous present stage in the canonical order
   * (read has none: it reads `inputs`). A stage naming only `requeue` keeps its default input too.
   */
  input: StageInputSchema.optional(),
  /** Where this stage's actors receive their input; default: assigned at run time (see transport). */
  endpoint: EndpointSchema.optional(),
};

const stageOptions = (name: StageName) => emptyIsDefaults(fields(`the options of stage ${name}`, stageFields));
/** A core stage runs when not listed, with the defaults; an optional one only when listed. */
const coreStage = (name: StageName) => stageOptions(name).prefault({});
const optionalStage = (name: StageName) => stageOptions(name).optional();

export const StagesSchema = emptyIsDefaults(
  fields(`stages by name: ${STAGE_NAMES.join(', ')}`, {
    read: coreStage('read'),
    split: coreStage('split'),
    parse: optionalStage('parse'),
    embed: optionalStage('embed'),
    count: coreStage('count'),
    smooth: coreStage('smooth'),
    materialise: emptyIsDefaults(
      fields('the options of stage materialise', {
        ...stageFields,
        /** Followers kept per context in the Top-K heads. */
        k: integer(1).default(DEFAULT_TOPK_K),
        /** Bits of the quantized Top-K values. */
        bits: integer(1, 16).default(DEFAULT_TOPK_BITS),
      }),
    ).prefault({}),
    evaluate: emptyIsDefaults(
      fields('the options of stage evaluate', {
        ...stageFields,
        /** Held-out inputs whose perplexity is reported. */
        test: z.array(InputSchema, expecting('a list of inputs, each with a path')).default([]),
        /** Sentences sampled from the model and printed. */
        samples: integer(0).default(0),
        /** Seed of the sampler; default: a random one. */
        seed: z.int(expecting('an integer')).optional(),
      }),
    ).optional(),
    requeue: optionalStage('requeue'),
  }),
).prefault({});

export const HostSchema = fields('a host: address', {
  /** The name or IP address other hosts reach this one at (its stages bind tcp://ADDRESS:PORT). */
  address: nonEmptyString('a host name or IP address'),
});

export const TransportSchema = emptyIsDefaults(
  fields('transport: kind, dir', {
    /** How stages talk: `ipc` (Unix sockets, one machine) or `tcp`. Default: ipc, or tcp when a stage has a host. */
    kind: z.enum(['ipc', 'tcp'], expecting('ipc or tcp')).optional(),
    /** Directory of the ipc sockets assigned at run time; default: a fresh one in the system temporary directory. */
    dir: nonEmptyString('a directory').optional(),
  }),
).prefault({});

export const MetricsSchema = emptyIsDefaults(
  fields('metrics: port, endpoint', {
    /** Serve Prometheus metrics over HTTP at http://127.0.0.1:PORT/metrics (0: any free port); default: no HTTP server. */
    port: integer(0, 65535).optional(),
    /** ZeroMQ endpoint where stage actors publish their metrics; default: assigned at run time. */
    endpoint: EndpointSchema.optional(),
  }),
).prefault({});

export const StoreSchema = emptyIsDefaults(
  fields('store: actors, join, data, address, replicas, dead_after_ms', {
    /** Spawn this many local store actors (the default, 1, when `join` is not given). */
    actors: integer(1).optional(),
    /** Or use a running store: endpoints of one or more of its members. */
    join: z.array(EndpointSchema, expecting('a list of store endpoints')).min(1, expecting('a non-empty list of store endpoints')).optional(),
    /** Data directory of spawned actors (actor ID keeps its database in DATA/ID); default: out/NAME.store beside the YAML file. */
    data: nonEmptyString('a directory').optional(),
    /** The name or IP address spawned actors bind (tcp://ADDRESS:PORT): one that stages on other hosts reach; default 127.0.0.1. */
    address: nonEmptyString('a host name or IP address').optional(),
    /** Copies of each fork the store keeps: the owner and R - 1 replicas on other members (store/README.md, Replication). */
    replicas: integer(1).default(1),
    /** Spawned actors' dead bound: a member silent this long is declared dead (default: resolve.ts SPAWNED_DEAD_AFTER_MS). */
    dead_after_ms: integer(1000).optional(),
  }),
)
  .superRefine((store, ctx) => {
    if (store.actors !== undefined && store.join !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['join'], message: 'give either store.actors (spawn a store) or store.join (use a running one), not both' });
    }
    if (store.join !== undefined && store.dead_after_ms !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['dead_after_ms'], message: 'store.dead_after_ms is for spawned actors; a running store (store.join) keeps its own dead bound' });
    }
    if (store.join !== undefined && store.address !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['address'], message: 'store.address is for spawned actors; a running store (store.join) binds its own' });
    }
    if (store.join !== undefined && store.data !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['data'], message: 'store.data is for spawned actors; a running store (store.join) keeps its own data' });
    }
    if (store.join === undefined && store.replicas > (store.actors ?? 1)) {
      ctx.addIssue({ code: 'custom', path: ['replicas'], message: `expected at most store.actors (${store.actors ?? 1}) replicas, got ${store.replicas}` });
    }
  }, WHEN_FIELDS_VALID)
  .prefault({});

export const ExportSchema = emptyIsDefaults(
  fields('export: arpa', {
    /** Write the finished model as an ARPA file (written whole or not at all). */
    arpa: nonEmptyString('a file path').optional(),
  }),
).prefault({});

export const PipelineSchema = fields('a pipeline definition', {
  /** The pipeline's name, in metrics, actor ids and default paths; default: the YAML file's name without extension. */
  name: name('a name of letters, digits, _ . - (starting with a letter or digit)').optional(),
  description: z.string(expecting('a string')).optional(),
  /** The training text. */
  inputs: z.array(InputSchema, expecting('a list of inputs, each with a path')).min(1, expecting('a non-empty list of inputs, each with a path')),
  /** `whitespace` for pre-tokenized text (KenLM's view), `regex` for raw text. */
  tokenizer: z.enum(TOKENIZER_NAMES as ['whitespace', 'regex'], expecting(`one of ${TOKENIZER_NAMES.join(', ')}`)).default('whitespace'),
  /** The model order N. */
  order: integer(1, MAX_ORDER).default(DEFAULT_ORDER),
  /** Use KenLM's fallback discounts 0.5/1/1.5 where counts-of-counts cannot give valid ones (as `build --discount-fallback`). */
  discount_fallback: boolean().default(false),
  /** A bad corpus line (invalid UTF-8, a reserved token, an undecodable record) stops the pipeline; default: skipped and counted. */
  strict: boolean().default(false),
  /** Allow running into a store that holds another model's statistics (they are cleared first). */
  reset: boolean().default(false),
  stages: StagesSchema,
  /** Machines running stages, by name: `dbslm pipeline worker --name NAME` serves the stages with `host: NAME`. */
  hosts: z.record(name('a host name of letters, digits, _ . -'), HostSchema, expecting('a map of host names to { address }')).default({}),
  transport: TransportSchema,
  metrics: MetricsSchema,
  store: StoreSchema,
  export: ExportSchema,
});

/** A parsed pipeline file, defaults filled in (paths still as written). */
export type PipelineSpec = z.output<typeof PipelineSchema>;
export type InputSpec = z.output<typeof InputSchema>;
export type StagesSpec = PipelineSpec['stages'];
export type StoreSpec = PipelineSpec['store'];
export type HostSpec = z.output<typeof HostSchema>;
/** The options of one stage as written (stage-specific ones included). */
export type StageSpec<N extends StageName = StageName> = NonNullable<StagesSpec[N]>;
