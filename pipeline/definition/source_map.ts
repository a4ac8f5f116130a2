// Where a definition path is written: the line and column of its node in the YAML file, or the
// `--set` argument that wrote it. A path that is not in the file (a missing field) is placed at
// the nearest enclosing node that is, so every problem points somewhere a user can look.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { DefinitionPath, ProblemSource } from './problems.js';

/** The `--set` argument that last wrote each path (or created it as a parent), keyed by pathKey. */
export type OverrideOrigins = Map<string, { argument: string; index: number }>;

export const pathKey = (path: DefinitionPath): string => JSON.stringify(path);

/** A YAML (or JSON) text parsed with the positions of its nodes. */
export interface ParsedSource {
  file: string;
  doc: Document;
  lines: LineCounter;
}

export function parseSource(text: string, file: string): ParsedSource {
  const lines = new LineCounter();
  // prettyErrors off: messages stay one line; positions come from the LineCounter.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return { file, doc, lines };
}

/** Line and column (1-based) of a character offset. */
export function positionAt(source: ParsedSource, offset: number): ProblemSource {
  const { line, col } = source.lines.linePos(offset);
  return { kind: 'file', file: source.file, line, column: col };
}

export class SourceLocator {
  constructor(
    private readonly source: ParsedSource,
    private readonly origins: OverrideOrigins = new Map(),
  ) {}

  /** Where to fix the value at `path` (or, with atKey, the key that names it). */
  locate(path: DefinitionPath, atKey = false): ProblemSource {
    for (let n = path.length; n > 0; n--) {
      const origin = this.origins.get(pathKey(path.slice(0, n)));
      if (origin !== undefined) return { kind: 'override', ...origin };
    }
    return positionAt(this.source, this.offsetOf(path, atKey));
  }

  private offsetOf(path: DefinitionPath, atKey: boolean): number {
    const doc = this.source.doc;
    let node: unknown = doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return offset;
        const keyAt = rangeStart(pair.key);
        const valueAt = rangeStart(pair.value);
        // An empty value (`count:`) has no node of its own: its key is where it is written.
        if ((last && atKey) || valueAt === undefined || (isScalar(pair.value) && pair.value.value === null && pair.value.range?.[0] === pair.value.range?.[1])) {
          return keyAt ?? offset;
        }
        node = pair.value;
        offset = valueAt;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        const at = rangeStart(item);
        if (at === undefined) return offset;
        node = item;
        offset = at;
      } else {
        // A scalar where a list or map was expected: the problem is the scalar itself.
        return offset;
      }
    }
    return offset;
  }
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}
