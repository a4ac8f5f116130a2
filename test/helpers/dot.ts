// A parser for the part of the Graphviz DOT language that graphs use (graph/digraph, node, edge
// and attribute statements, quoted IDs), strict enough that malformed output fails a test.
export interface DotGraph {
  directed: boolean;
  name: string | null;
  nodes: Map<string, Record<string, string>>;
  edges: { from: string; to: string; attrs: Record<string, string> }[];
}

type Token = { kind: 'id' | 'punct'; text: string };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) i++;
    else if (src.startsWith('//', i)) i = src.indexOf('\n', i) < 0 ? src.length : src.indexOf('\n', i);
    else if (src.startsWith('->', i) || src.startsWith('--', i)) (tokens.push({ kind: 'punct', text: src.slice(i, i + 2) }), (i += 2));
    else if ('{}[]=;,'.includes(c)) (tokens.push({ kind: 'punct', text: c }), i++);
    else if (c === '"') {
      let text = '';
      for (i++; src[i] !== '"'; i++) {
        if (i >= src.length) throw new Error('unterminated string');
        if (src[i] === '\\' && src[i + 1] === '"') i++;
        text += src[i];
      }
      i++;
      tokens.push({ kind: 'id', text });
    } else {
      const m = /^(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*|-?(?:\.\d+|\d+(?:\.\d*)?))/.exec(src.slice(i));
      if (!m) throw new Error(`unexpected ${JSON.stringify(c)} at ${i}`);
      tokens.push({ kind: 'id', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

export function parseDot(src: string): DotGraph {
  const tokens = tokenize(src);
  let at = 0;
  const peek = () => tokens[at];
  const take = (text?: string): Token => {
    const t = tokens[at++];
    if (!t || (text !== undefined && t.text !== text)) throw new Error(`expected ${text ?? 'a token'}, got ${t?.text ?? 'the end'}`);
    return t;
  };
  const id = (): string => {
    const t = take();
    if (t.kind !== 'id') throw new Error(`expected an ID, got ${t.text}`);
    return t.text;
  };
  const attrList = (): Record<string, string> => {
    const attrs: Record<string, string> = {};
    while (peek()?.text === '[') {
      take('[');
      while (peek()?.text !== ']') {
        const k = id();
        take('=');
        attrs[k] = id();
        if (peek()?.text === ',' || peek()?.text === ';') take();
      }
      take(']');
    }
    return attrs;
  };
  if (peek()?.text === 'strict') take();
  const kind = id();
  if (kind !== 'digraph' && kind !== 'graph') throw new Error(`expected digraph or graph, got ${kind}`);
  const graph: DotGraph = { directed: kind === 'digraph', name: null, nodes: new Map(), edges: [] };
  if (peek()?.text !== '{') graph.name = id();
  take('{');
  while (peek()?.text !== '}') {
    const first = id();
    if (['graph', 'node', 'edge'].includes(first) && peek()?.text === '[') attrList();
    else if (peek()?.text === '=') (take('='), id());
    else if (peek()?.text === '->' || peek()?.text === '--') {
      const chain = [first];
      while (peek()?.text === '->' || peek()?.text === '--') {
        if (take().text !== (graph.directed ? '->' : '--')) throw new Error('edge operator does not match the graph kind');
        chain.push(id());
      }
      const attrs = attrList();
      for (let i = 1; i < chain.length; i++) graph.edges.push({ from: chain[i - 1]!, to: chain[i]!, attrs });
      for (const n of chain) if (!graph.nodes.has(n)) graph.nodes.set(n, {});
    } else graph.nodes.set(first, { ...graph.nodes.get(first), ...attrList() });
    if (peek()?.text === ';') take(';');
  }
  take('}');
  if (at !== tokens.length) throw new Error('text after the closing brace');
  return graph;
}
