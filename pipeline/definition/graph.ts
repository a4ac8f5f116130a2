// The stage graph of a definition, for people: one line per edge, or Graphviz DOT.
import type { PipelineDefinition, StageDefinition } from './definition.js';

function placement(stage: StageDefinition): string {
  const workers = `${stage.workers} worker${stage.workers === 1 ? '' : 's'}`;
  return stage.host === null ? workers : `${workers} on ${stage.host}`;
}

/** `read (1 worker) -> split (1 worker)`, one line per edge; feedback edges end in `(feedback)`. */
export function graphText(definition: PipelineDefinition): string {
  const stage = new Map(definition.stages.map((s) => [s.name, s]));
  const lines = definition.edges.map((e) => {
    const from = stage.get(e.from)!;
    const to = stage.get(e.to)!;
    return `${e.from} (${placement(from)}) -> ${e.to} (${placement(to)})${e.feedback ? ' (feedback)' : ''}`;
  });
  return lines.join('\n') + '\n';
}

const escaped = (s: string) => s.replace(/["\\]/g, (c) => `\\${c}`);
const quoted = (s: string) => `"${escaped(s)}"`;

/** A digraph with one node per stage (labelled with its workers and host) and one edge per input; feedback edges dashed. */
export function graphDot(definition: PipelineDefinition): string {
  const out = [`digraph ${quoted(definition.name)} {`, '  rankdir=LR;', '  node [shape=box];'];
  for (const s of definition.stages) out.push(`  ${quoted(s.name)} [label="${escaped(s.name)}\\n${escaped(placement(s))}"];`);
  for (const e of definition.edges) out.push(`  ${quoted(e.from)} -> ${quoted(e.to)}${e.feedback ? ' [style=dashed, label="feedback"]' : ''};`);
  out.push('}');
  return out.join('\n') + '\n';
}
