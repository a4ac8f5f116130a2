// What the store must hold after the runtime's test pipeline counted text files into it: the
// RAW counters and LEFT keys of statOpsOf over all sentences at once (batching changes neither),
// and per word a least FIRST position equal to its first appearance.
import fs from 'node:fs';
import type { StoreClient } from '../../store/client/client.js';
import { parseKey } from '../../store/protocol/keys.js';
import { decodePosition, decodeStatKey, isStatNamespace, TAG_FIRST, TAG_LEFT, TAG_RAW } from '../../store/model/stat_keys.js';
import { statOpsOf, type CountedSentence } from '../../store/model/stat_ops.js';
import { linesWithOffsets } from './runtime_stages/source_lines.js';

export interface StatContents {
  raw: Map<string, bigint>;
  left: Set<string>;
  /** word -> least FIRST position as `input:line:token`. */
  first: Map<string, string>;
}

function noteFirst(first: Map<string, string>, word: string, p: { input: number; line: number; token: number }): void {
  const key = `${p.input}:${p.line}:${p.token}`;
  const old = first.get(word);
  const order = (s: string) => s.split(':').map(Number);
  if (!old) return void first.set(word, key);
  const [a, b] = [order(key), order(old)];
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return void (a[i]! < b[i]! && first.set(word, key));
}

export function expectedStats(model: string, order: number, files: string[]): StatContents {
  const sentences: CountedSentence[] = [];
  files.forEach((file, input) => {
    for (const l of linesWithOffsets(fs.readFileSync(file))) {
      sentences.push({ tokens: l.text.split(/[ \t\r\0]+/).filter((w) => w.length > 0), eos: true, position: { generation: 1, input, line: l.offset } });
    }
  });
  const ops = statOpsOf(model, order, sentences);
  const raw = new Map(ops.incrs.map((i) => [i.key.toString('hex'), BigInt(i.delta)]));
  const left = new Set<string>();
  const first = new Map<string, string>();
  for (const key of ops.sets) {
    const k = decodeStatKey(key);
    if (k.tag === TAG_LEFT) left.add(key.toString('hex'));
    else if (k.tag === TAG_FIRST) noteFirst(first, k.word, decodePosition(k.extra));
  }
  return { raw, left, first };
}

export async function storedStats(client: StoreClient, model: string): Promise<StatContents> {
  const out: StatContents = { raw: new Map(), left: new Set(), first: new Map() };
  await client.refreshMap();
  for await (const { key, value } of client.scan(Buffer.alloc(0), { pageSize: 4096 })) {
    if (!isStatNamespace(model, parseKey(key).ns)) continue;
    const k = decodeStatKey(key);
    if (k.tag === TAG_RAW) out.raw.set(key.toString('hex'), value as bigint);
    else if (k.tag === TAG_LEFT) out.left.add(key.toString('hex'));
    else if (k.tag === TAG_FIRST) noteFirst(out.first, k.word, decodePosition(k.extra));
  }
  return out;
}

/** The first few differences per kind (empty lists: equal). ava's deepEqual of 40,000-entry maps takes minutes. */
export function differences(got: StatContents, want: StatContents, few = 5): { raw: string[]; left: string[]; first: string[] } {
  const raw: string[] = [];
  for (const [k, v] of want.raw) if (got.raw.get(k) !== v && raw.length < few) raw.push(`${k}: want ${v}, got ${got.raw.get(k)}`);
  for (const k of got.raw.keys()) if (!want.raw.has(k) && raw.length < few) raw.push(`${k}: not expected`);
  const left: string[] = [];
  for (const k of want.left) if (!got.left.has(k) && left.length < few) left.push(`${k} missing`);
  for (const k of got.left) if (!want.left.has(k) && left.length < few) left.push(`${k} not expected`);
  const first: string[] = [];
  for (const [w, p] of want.first) if (got.first.get(w) !== p && first.length < few) first.push(`${w}: want ${p}, got ${got.first.get(w)}`);
  if (got.first.size !== want.first.size && first.length < few) first.push(`${got.first.size} words have FIRST keys, want ${want.first.size}`);
  return { raw, left, first };
}
