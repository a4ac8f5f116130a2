// Dataset configs: how the records of an NDJSON input become text. A config names the record's
// prompt and response fields with the label each gets, optionally an instruction field (labelled
// `|INSTRUCTION|` unless it says otherwise), and context fields (each with its label, the token
// name of its `|CTX|:name:value` marker, and whether it goes before the prompt).
//
// Which config an NDJSON file uses, unless its input names one with `config:`: the first that
// exists of `<prefix>.config.json` beside the file, trying the file name cut at each dot, longest
// prefix first. For `kjv.pairs.train.ndjson` that is kjv.pairs.train.config.json, then
// kjv.pairs.config.json (the one ../shared/corpora has), then kjv.config.json; so a config can
// serve every split of a dataset and one split can still have its own.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { schemaFindings } from './schema_problems.js';
import { formatPath, type DefinitionPath, type Problem } from './problems.js';
import { parseSource, positionAt, SourceLocator } from './source_map.js';

const text = (what: string) => z.string({ error: what }).min(1, { error: what });
const token = (what: string) => z.string({ error: what }).regex(/^[^\s:]+$/, { error: what });

export const ContextFieldSchema = z.object(
  {
    /** The record field holding the context value. */
    field: text('the name of a record field'),
    /** How the context is labelled in text. */
    label: text('a non-empty label'),
    /** The key in the context marker `|CTX|:token_name:value` (no spaces or colons). */
    token_name: token('a token name without spaces or colons'),
    /** Where the context goes: before the prompt, or (the default) after it, before the response. */
    placement: z.enum(['before_prompt', 'after_prompt'], { error: 'before_prompt or after_prompt' }).optional(),
    /** The marker that introduces the context, e.g. `|CTX|`. */
    canonical_tag: token('a tag without spaces or colons, such as |CTX|').optional(),
  },
  { error: 'a map with field, label, token_name' },
);

/** Unknown fields are allowed: configs belong to datasets and may carry their own notes. */
export const DatasetConfigSchema = z.object(
  {
    name: z.string({ error: 'a string' }).optional(),
    description: z.string({ error: 'a string' }).optional(),
    prompt_field: text('the name of a record field'),
    prompt_label: text('a non-empty label, such as |USER|'),
    response_field: text('the name of a record field'),
    response_label: text('a non-empty label, such as |RESPONSE|'),
    /** The record field holding a task instruction, framed first (instruction-tuning datasets). */
    instruction_field: text('the name of a record field').optional(),
    /** The instruction's label. */
    instruction_label: text('a non-empty label, such as |INSTRUCTION|').default('|INSTRUCTION|'),
    context_fields: z.array(ContextFieldSchema, { error: 'a list of context fields' }).default([]),
  },
  { error: 'a JSON object with prompt_field, prompt_label, response_field, response_label' },
);

export type DatasetConfig = z.output<typeof DatasetConfigSchema>;
export type ContextField = z.output<typeof ContextFieldSchema>;

/** The configs an NDJSON file could use, in the order they are tried. */
export function datasetConfigCandidates(dataFile: string): string[] {
  const dir = path.dirname(dataFile);
  const parts = path.basename(dataFile).split('.');
  const out: string[] = [];
  for (let n = parts.length - 1; n >= 1; n--) out.push(path.join(dir, `${parts.slice(0, n).join('.')}.config.json`));
  return out;
}

export function findDatasetConfig(dataFile: string): string | null {
  return datasetConfigCandidates(dataFile).find((c) => fs.statSync(c, { throwIfNoEntry: false })?.isFile()) ?? null;
}

/** The record fields a config reads, each with where the config names it. */
export function fieldsRead(config: DatasetConfig): { at: DefinitionPath; field: string }[] {
  return [
    { at: ['prompt_field'], field: config.prompt_field },
    { at: ['response_field'], field: config.response_field },
    ...(config.instruction_field === undefined ? [] : [{ at: ['instruction_field'], field: config.instruction_field }]),
    ...config.context_fields.map((c, i) => ({ at: ['context_fields', i, 'field'], field: c.field })),
  ];
}

export interface LoadedDatasetConfig {
  config: DatasetConfig | null;
  problems: Problem[];
  /** Where a path of the config is written, for problems found later (a field the data lacks). */
  locator: SourceLocator | null;
}

/** Read and validate a config; `shownAs` is how problems name the file. */
export function loadDatasetConfig(file: string, shownAs: string): LoadedDatasetConfig {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    return { config: null, locator: null, problems: [{ kind: 'environment', source: { kind: 'file', file: shownAs, line: 1, column: 1 }, path: '(dataset config)', message: `cannot read the dataset config: ${why}` }] };
  }
  // JSON is YAML, and the YAML parser keeps every node's position.
  const source = parseSource(raw, shownAs);
  const locator = new SourceLocator(source);
  const problems: Problem[] = source.doc.errors.map((e) => ({ kind: 'environment', source: positionAt(source, e.pos[0]), path: '(syntax)', message: e.message }));
  if (problems.length > 0) return { config: null, locator, problems };
  const data: unknown = source.doc.toJS();
  const parsed = DatasetConfigSchema.safeParse(data);
  if (parsed.success) return { config: parsed.data, locator, problems };
  for (const f of schemaFindings(parsed.error.issues, data)) {
    problems.push({ kind: 'environment', source: locator.locate(f.path, f.atKey), path: formatPath(f.path), message: f.message });
  }
  return { config: null, locator, problems };
}
