// Load a pipeline YAML file: parse it (keeping every node's line and column), apply --set
// overrides, check it against the schema, the stage topology and the placement of stages, and
// resolve it into a PipelineDefinition. Every problem is collected, none stops the others: each
// top-level section that is valid by itself is still checked further (a bad `order` does not hide
// a cycle among the stages), and the environment (validate_environment.ts) checks those sections too.
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { InputError } from '../../model/errors.js';
import type { PipelineDefinition } from './definition.js';
import { applyOverrides } from './overrides.js';
import { checkPlacement } from './placement.js';
import { formatPath, type Finding, type Problem, type ProblemKind } from './problems.js';
import { defaultPipelineName, resolvePipeline } from './resolve.js';
import { PipelineSchema, STAGE_NAMES, StageInputSchema, type PipelineSpec } from './schema.js';
import { schemaFindings, valueAt } from './schema_problems.js';
import { parseSource, positionAt, SourceLocator } from './source_map.js';
import { checkTopology, type StageInputsSpec } from './topology.js';

export interface LoadedPipeline {
  /** The file as named by the caller (problems show it so). */
  file: string;
  /** Its directory, absolute: relative paths in the file are resolved against it. */
  baseDir: string;
  /** The pipeline's name, or the default from the file name. */
  name: string;
  /** The document after overrides, as plain data. */
  data: unknown;
  /** Each top-level section that is valid by itself, parsed (all of them when the whole is valid). */
  parts: Partial<PipelineSpec>;
  /** The resolved definition; null when there are problems. */
  definition: PipelineDefinition | null;
  problems: Problem[];
  /** Where a definition path is written (for problems found later). */
  locator: SourceLocator;
}

export function loadPipeline(file: string, overrides: readonly string[] = []): LoadedPipeline {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(err.code === 'ENOENT' ? 'no such file' : `cannot read: ${err.message}`, file, undefined, 'name a pipeline YAML file, e.g. config/pipelines/quickstart.yaml');
  }
  return loadPipelineText(text, file, overrides);
}

/** As loadPipeline, from text already read; `file` names it and anchors its relative paths. */
export function loadPipelineText(text: string, file: string, overrides: readonly string[] = []): LoadedPipeline {
  const source = parseSource(text, file);
  const problems: Problem[] = source.doc.errors.map((e) => ({ kind: 'yaml', source: positionAt(source, e.pos[0]), path: '(syntax)', message: e.message }));
  const applied = applyOverrides(source.doc, overrides);
  problems.push(...applied.problems);
  const locator = new SourceLocator(source, applied.origins);
  const place = (kind: ProblemKind) => (f: Finding): Problem => ({ kind, source: locator.locate(f.path, f.atKey), path: formatPath(f.path), message: f.message });

  let data: unknown = null;
  try {
    data = source.doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    problems.push({ kind: 'yaml', source: positionAt(source, 0), path: '(syntax)', message: (e as Error).message });
  }
  const whole = PipelineSchema.safeParse(data);
  if (!whole.success) problems.push(...schemaFindings(whole.error.issues, data).map(place('schema')));
  const parts = whole.success ? whole.data : parseSections(data);

  problems.push(...checkTopology(parts.stages ?? stageInputsOnly(data)).map(place('topology')));
  if (parts.stages !== undefined && parts.hosts !== undefined && parts.transport !== undefined && parts.metrics !== undefined) {
    problems.push(...checkPlacement({ stages: parts.stages, hosts: parts.hosts, transport: parts.transport, metrics: parts.metrics }).map(place('topology')));
  }
  const definition = whole.success && problems.length === 0 ? resolvePipeline(whole.data, file) : null;
  return {
    file,
    baseDir: path.dirname(path.resolve(file)),
    name: parts.name ?? defaultPipelineName(file),
    data,
    parts,
    definition,
    problems,
    locator,
  };
}

/** Each top-level section parsed on its own, keeping those that are valid. */
function parseSections(data: unknown): Partial<PipelineSpec> {
  const record = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  const parts: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(PipelineSchema.shape) as [string, z.ZodType][]) {
    const parsed = schema.safeParse(record[key]);
    if (parsed.success) parts[key] = parsed.data;
  }
  return parts as Partial<PipelineSpec>;
}

/**
 * The stages listed and the inputs they name, from a `stages:` that is not valid as a whole (a
 * stage with `workers: two` still has its place in the graph); an input that is itself invalid
 * is left to its schema problem and the default is used.
 */
function stageInputsOnly(data: unknown): StageInputsSpec {
  const out: Record<string, { input?: readonly string[] }> = {};
  for (const name of STAGE_NAMES) {
    const stage = valueAt(data, ['stages', name]).value;
    if (stage === undefined) continue;
    const input = StageInputSchema.safeParse(valueAt(stage, ['input']).value);
    out[name] = input.success ? { input: input.data } : {};
  }
  return out as StageInputsSpec;
}
