// The pipeline definition the runtime consumes: a validated YAML file with every default applied,
// every path absolute, every stage present with what it reads from, and the store's actors named.
// It is plain data (JSON-serialisable), so a coordinator can send it to worker processes as is.
// Field types that the YAML spells the same way come from the schema (schema.ts) by inference.
import type { TokenizerName } from '../../model/tokenizer.js';
import type { HostSpec, StageName, StageSpec } from './schema.js';
import type { StageEdge } from './topology.js';

export type { StageEdge, StageName };

export interface InputDefinition {
  /** Absolute path of a file or directory, or `-` for standard input. */
  path: string;
  /** The path as the YAML (or a --set) wrote it, for messages. */
  written: string;
  /** `text`: one sentence per line; `ndjson`: one JSON record per line, made text by a dataset config. */
  format: 'text' | 'ndjson';
  /** ndjson: the dataset config named by `config:` (absolute); null: found beside each data file (dataset_config.ts). Always null for text. */
  config: string | null;
}

/** What every stage has. */
export interface StageCommon {
  /** Parallel actors of this stage. */
  workers: number;
  /** Items per message between stages. */
  batch: number;
  /** The declared host (see PipelineDefinition.hosts) whose worker runs this stage; null: the machine running the pipeline. */
  host: string | null;
  /** The stages this one reads from ([] for read, which reads PipelineDefinition.inputs, unless requeue feeds it). */
  inputs: StageName[];
  /** Where this stage's actors receive input; null: assigned at run time (see PipelineDefinition.transport). */
  endpoint: string | null;
}

export type MaterialiseStage = StageCommon & { name: 'materialise' } & Pick<StageSpec<'materialise'>, 'k' | 'bits'>;

export type EvaluateStage = StageCommon & {
  name: 'evaluate';
  /** Held-out inputs whose perplexity is reported. */
  test: InputDefinition[];
  /** Sentences to sample from the model. */
  samples: number;
  /** The sampler's seed; null: a random one. */
  seed: number | null;
};

type PlainStageName = Exclude<StageName, 'materialise' | 'evaluate'>;
/** A stage with only the common settings (one member per name, so narrowing on `name` works). */
export type PlainStage = { [N in PlainStageName]: StageCommon & { name: N } }[PlainStageName];

/** A stage that runs, with its settings; narrow on `name` for stage-specific ones. */
export type StageDefinition = PlainStage | MaterialiseStage | EvaluateStage;

export interface StoreActorDefinition {
  /** Actor id, unique in the store: `NAME-store-I` (I from 1). */
  id: string;
  /** Its data directory (SQLite database and fork map): store data directory / id. */
  dataDir: string;
}

/** Spawn local store actors, or use a running store through any of its members. */
export type StoreDefinition =
  | { mode: 'spawn'; dataDir: string; actors: StoreActorDefinition[]; replicas: number; deadAfterMs?: number; /** What the actors bind, tcp://ADDRESS:0 (default 127.0.0.1). */ address?: string }
  | { mode: 'join'; endpoints: string[]; replicas: number };

export interface PipelineDefinition {
  /** The YAML file (absolute). */
  file: string;
  /** Its directory: relative paths in the file were resolved against it. */
  baseDir: string;
  name: string;
  description: string | null;
  /** The training text. */
  inputs: InputDefinition[];
  tokenizer: TokenizerName;
  order: number;
  discountFallback: boolean;
  /** Bad corpus lines stop the pipeline (else they are skipped and counted). */
  strict: boolean;
  /** Running into a store that holds another model clears it (else that is an error). */
  reset: boolean;
  /** The stages that run, in canonical order (STAGE_NAMES). */
  stages: StageDefinition[];
  /** Who reads from whom: one edge per (from, to), feedback edges leave requeue. */
  edges: StageEdge[];
  /** Machines by name, as declared; stages name them in `host`. */
  hosts: Record<string, HostSpec>;
  transport: {
    /** ipc: Unix sockets on one machine; tcp: across machines (the default when any stage has a host). */
    kind: 'ipc' | 'tcp';
    /** Directory for run-time ipc sockets; null: a fresh temporary one. */
    dir: string | null;
  };
  metrics: {
    /** Prometheus HTTP port on 127.0.0.1 (0: any free port); null: no HTTP server. */
    port: number | null;
    /** ZeroMQ endpoint stage actors publish metrics to; null: assigned at run time. */
    endpoint: string | null;
  };
  store: StoreDefinition;
  export: {
    /** Absolute path of the ARPA file to write; null: none. */
    arpa: string | null;
  };
}

/** The stage called `name`, typed by its name, if it runs. */
export function stageNamed<N extends StageName>(definition: PipelineDefinition, name: N): Extract<StageDefinition, { name: N }> | undefined {
  return definition.stages.find((s) => s.name === name) as Extract<StageDefinition, { name: N }> | undefined;
}
