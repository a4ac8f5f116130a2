// `--set PATH=VALUE` overrides, Helm style, applied to the parsed YAML before validation:
//   --set order=4  --set store.actors=3  --set inputs[0].path=x.txt  --set stages.count.workers=2
// PATH is keys separated by dots (a literal dot in a key is `\.`) with list indices in brackets.
// VALUE is read as YAML: `4` is a number, `true` a boolean, `x.txt` a string, `"4"` the string 4,
// and `[a, b]` a list; `null`, `~` or nothing removes the field so its default applies (or, for a
// list item, removes the item). Missing maps and lists on the way are created; an index may append
// to a list (inputs[1] on a one-item list) but not leave a gap. Later overrides win. A problem
// with an override, and any schema problem in what it wrote, points at the `--set` argument.
import { isAlias, isCollection, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { describeValue, formatPath, type DefinitionPath, type Problem } from './problems.js';
import { pathKey, type OverrideOrigins } from './source_map.js';

export class OverrideSyntaxError extends Error {}

/** `stages.count.workers` → ['stages', 'count', 'workers']; `inputs[0].path` → ['inputs', 0, 'path']. */
export function parseOverridePath(text: string): (string | number)[] {
  const path: (string | number)[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new OverrideSyntaxError(`bad path ${JSON.stringify(text)}: ${why} at character ${i + 1}`);
  };
  while (i < text.length || path.length === 0) {
    let key = '';
    while (i < text.length && !'.[]'.includes(text[i]!)) {
      if (text[i] === '\\' && i + 1 < text.length) i++;
      key += text[i++];
    }
    if (key === '') fail('expected a field name');
    path.push(key);
    while (text[i] === '[') {
      const close = text.indexOf(']', i);
      const digits = close < 0 ? '' : text.slice(i + 1, close);
      if (!/^\d+$/.test(digits)) fail('expected [INDEX] with INDEX a whole number');
      path.push(Number(digits));
      i = close + 1;
    }
    if (i === text.length) break;
    if (text[i] !== '.') fail('expected . or [ after a field');
    i++;
    if (i === text.length) fail('expected a field name after the dot');
  }
  return path;
}

/** Split `PATH=VALUE` and read VALUE as YAML. */
export function parseOverride(argument: string): { path: (string | number)[]; value: unknown } {
  const eq = argument.indexOf('=');
  if (eq < 0) throw new OverrideSyntaxError('expected PATH=VALUE, e.g. --set order=4');
  const path = parseOverridePath(argument.slice(0, eq));
  const valueDoc = parseDocument(argument.slice(eq + 1), { prettyErrors: false });
  if (valueDoc.errors.length > 0) throw new OverrideSyntaxError(`the value is not valid YAML: ${valueDoc.errors[0]!.message.split('\n')[0]}`);
  return { path, value: valueDoc.toJS() as unknown };
}

/** Apply the overrides in order; returns their problems and which argument wrote which path. */
export function applyOverrides(doc: Document, argumentsGiven: readonly string[]): { problems: Problem[]; origins: OverrideOrigins } {
  const problems: Problem[] = [];
  const origins: OverrideOrigins = new Map();
  for (const [index, argument] of argumentsGiven.entries()) {
    try {
      const { path, value } = parseOverride(argument);
      const created = setAt(doc, path, value);
      // What this override replaced, it now answers for; what an earlier one wrote below it is gone.
      const under = pathKey(path).slice(0, -1) + ',';
      for (const key of [...origins.keys()]) if (key.startsWith(under)) origins.delete(key);
      for (const p of [...created, path]) origins.set(pathKey(p), { argument, index });
    } catch (e) {
      if (!(e instanceof OverrideSyntaxError)) throw e;
      const eq = argument.indexOf('=');
      problems.push({ kind: 'override', source: { kind: 'override', argument, index }, path: eq > 0 ? argument.slice(0, eq) : '(override)', message: e.message });
    }
  }
  return { problems, origins };
}

/** Write `value` at `path` (null removes); returns the paths of the maps and lists it had to create. */
function setAt(doc: Document, path: DefinitionPath, value: unknown): DefinitionPath[] {
  const created: DefinitionPath[] = [];
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) doc.contents = doc.createNode({});
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const here = path.slice(0, i);
    const last = i === path.length - 1;
    if (isMap(node)) {
      if (typeof seg === 'number') throw new OverrideSyntaxError(`${formatPath(here)} is a map: name a field, not an index [${seg}]`);
      if (last) {
        if (value === null) node.delete(seg);
        else node.set(seg, doc.createNode(value));
        return created;
      }
      node = child(doc, node.get(seg, true), path, i, created, (c) => node !== null && isMap(node) && node.set(seg, c));
    } else if (isSeq(node)) {
      if (typeof seg === 'string') throw new OverrideSyntaxError(`${formatPath(here)} is a list: give an index, ${formatPath(here)}[0]`);
      const length = node.items.length;
      if (seg > length) throw new OverrideSyntaxError(`${formatPath(here)} has ${length} item${length === 1 ? '' : 's'}: index ${seg} would leave a gap (use [${length}] to add one)`);
      if (last) {
        if (value === null) {
          if (seg < length) node.delete(seg);
        } else if (seg === length) node.add(doc.createNode(value));
        else node.set(seg, doc.createNode(value));
        return created;
      }
      const seq = node;
      node = child(doc, seq.get(seg, true), path, i, created, (c) => (seg === length ? seq.add(c) : seq.set(seg, c)));
    } else {
      throw new OverrideSyntaxError(`${formatPath(here)} is ${describeValue(isScalar(node) ? node.value : node)}, not a map or a list: nothing can be set inside it`);
    }
  }
  return created;
}

/** The collection at path[..i+1], created (a map, or a list for an index next) when absent or empty. */
function child(doc: Document, existing: unknown, path: DefinitionPath, i: number, created: DefinitionPath[], attach: (c: unknown) => unknown): unknown {
  if (isCollection(existing)) return existing;
  if (isAlias(existing)) {
    // Writing through an alias would change every place the anchor is used.
    throw new OverrideSyntaxError(`${formatPath(path.slice(0, i + 1))} is an alias (*${existing.source}): set the anchored value, or write ${formatPath(path.slice(0, i + 1))} out in the file`);
  }
  if (existing === undefined || existing === null || (isScalar(existing) && existing.value === null)) {
    const fresh = doc.createNode(typeof path[i + 1] === 'number' ? [] : {});
    attach(fresh);
    created.push(path.slice(0, i + 1));
    return fresh;
  }
  const value = isScalar(existing) ? existing.value : existing;
  throw new OverrideSyntaxError(`${formatPath(path.slice(0, i + 1))} is ${describeValue(value)}, not a map or a list: nothing can be set inside it`);
}
