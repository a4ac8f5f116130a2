// The stage graph: which stages run, what each reads from, and whether that makes a pipeline.
//
// The core stages always run; parse, embed, evaluate and requeue run when listed. A stage reads
// from the stage(s) named by its `input`, by default the previous present stage in the canonical
// order (STAGE_NAMES); read has no default input, it reads the files. Only requeue may feed back
// into an earlier stage, so an input naming requeue alone ADDS requeue to the default input (a
// stage that took only requeued items would see nothing new). Checked here: every input exists,
// and there is no cycle that does not pass through requeue. Together with the defaults that makes
// every stage reachable from read: each other stage has an input that is not requeue, and
// following those back cannot go round a cycle, so it ends at read.
import { CORE_STAGES, FEEDBACK_STAGE, STAGE_NAMES, type StageName } from './schema.js';
import type { Finding } from './problems.js';

/** One connection: `to` reads what `from` emits. `feedback` edges leave requeue. */
export interface StageEdge {
  from: StageName;
  to: StageName;
  feedback: boolean;
}

/** What the graph needs of `stages:`: which stages are listed, and what each says it reads from. */
export type StageInputsSpec = { readonly [N in StageName]?: { readonly input?: readonly StageName[] } };

const rank = (s: StageName) => STAGE_NAMES.indexOf(s);

/** The stages this pipeline runs, in canonical order. */
export function presentStages(stages: StageInputsSpec): StageName[] {
  return STAGE_NAMES.filter((s) => CORE_STAGES.includes(s) || stages[s] !== undefined);
}

/** What each present stage reads from, defaults applied (inputs may name absent stages: checkTopology reports them). */
export function stageInputs(stages: StageInputsSpec): Map<StageName, StageName[]> {
  const present = presentStages(stages);
  const out = new Map<StageName, StageName[]>();
  present.forEach((s, i) => {
    const fallback = i === 0 ? [] : [present[i - 1]!];
    const written = stages[s]?.input;
    if (written === undefined) out.set(s, fallback);
    else if (written.every((w) => w === FEEDBACK_STAGE)) out.set(s, [...fallback.filter((f) => f !== FEEDBACK_STAGE), FEEDBACK_STAGE]);
    else out.set(s, [...new Set(written)]);
  });
  return out;
}

/** The edges between present stages, in canonical order of the reading stage. */
export function stageEdges(stages: StageInputsSpec): StageEdge[] {
  const present = new Set(presentStages(stages));
  const edges: StageEdge[] = [];
  for (const [to, inputs] of stageInputs(stages)) {
    for (const from of inputs) if (present.has(from)) edges.push({ from, to, feedback: from === FEEDBACK_STAGE });
  }
  return edges;
}

export function checkTopology(stages: StageInputsSpec): Finding[] {
  const present = presentStages(stages);
  const inputs = stageInputs(stages);
  const findings: Finding[] = [];
  for (const [s, from] of inputs) {
    for (const missing of from.filter((f) => !present.includes(f))) {
      const others = present.filter((p) => p !== s).join(', ');
      findings.push({ path: ['stages', s, 'input'], message: `stage ${missing} is not in this pipeline: list it under stages, or read from one of ${others}` });
    }
  }
  const edges = stageEdges(stages);
  for (const cycle of forbiddenCycles(present, edges)) {
    // A default input always points back in canonical order, so some stage on the cycle has
    // written an input that points forward (or at itself): that is the line to change.
    const closer = cycle.find((s, i) => rank(cycle[(i + cycle.length - 1) % cycle.length]!) >= rank(s)) ?? cycle[0]!;
    const start = cycle.indexOf(closer);
    const named = [...cycle.slice(start), ...cycle.slice(0, start), closer].join(' -> ');
    findings.push({ path: ['stages', closer, 'input'], message: `cycle ${named}: only ${FEEDBACK_STAGE} may feed back into an earlier stage` });
  }
  return findings;
}

/** One cycle per strongly connected component of the graph without its feedback edges. */
function forbiddenCycles(nodes: StageName[], edges: StageEdge[]): StageName[][] {
  const next = new Map<StageName, StageName[]>(nodes.map((n) => [n, []]));
  for (const e of edges) if (!e.feedback) next.get(e.from)!.push(e.to);
  const cycles: StageName[][] = [];
  for (const component of stronglyConnected(nodes, next)) {
    const first = component[0]!;
    if (component.length === 1 && !next.get(first)!.includes(first)) continue;
    cycles.push(cycleThrough(first, new Set(component), next));
  }
  return cycles;
}

/** A simple cycle from `start` back to it, staying inside its component (which has one). */
function cycleThrough(start: StageName, inside: Set<StageName>, next: Map<StageName, StageName[]>): StageName[] {
  const seen = new Set<StageName>();
  const walk = (at: StageName, path: StageName[]): StageName[] | null => {
    for (const n of next.get(at)!) {
      if (n === start) return path;
      if (!inside.has(n) || seen.has(n)) continue;
      seen.add(n);
      const found = walk(n, [...path, n]);
      if (found) return found;
    }
    return null;
  };
  return walk(start, [start]) ?? [start];
}

/** Tarjan's algorithm; components come out with their nodes in canonical order. */
function stronglyConnected(nodes: StageName[], next: Map<StageName, StageName[]>): StageName[][] {
  const index = new Map<StageName, number>();
  const low = new Map<StageName, number>();
  const stack: StageName[] = [];
  const out: StageName[][] = [];
  const visit = (v: StageName) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: StageName[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        component.push(w);
        if (w === v) break;
      }
      out.push(component.sort((a, b) => rank(a) - rank(b)));
    }
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return out;
}
