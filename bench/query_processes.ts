// Part of npm run bench:query: `ppl` as a user runs it, a whole process, on the order-5 KJV model
// from its ARPA and from its binary, beside KenLM's `query` on the same ARPA and on the probing
// binary of KenLM's build_binary, alternating in the same run (medians and ratios); then the load
// alone (the same processes with no test text, and in-process), tokens/s once loaded, and topk
// from a binary's follower index.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { readBinaryModel } from '../model/binary/model_file.js';
import { rebuildLanguageModel } from '../model/binary/rebuild.js';
import { buildQueryIndex, type QueryIndex } from '../model/query_index.js';
import { Scorer } from '../model/score.js';
import { BOS, type Vocab } from '../model/vocab.js';
import { openTopK } from '../model/binary/topk_file.js';

interface Case {
  name: string;
  command: string;
  args: string[];
  /** Fed on stdin (KenLM's query reads the text there). */
  stdin?: string;
}

interface Run {
  wall: number;
  rssMb: number;
  stdout: string;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const TIME = '/usr/bin/time';

/** One process, its wall time measured here and its peak RSS by /usr/bin/time when present. */
function run(c: Case): Run {
  const timed = fs.existsSync(TIME);
  const command = timed ? TIME : c.command;
  const args = timed ? ['-f', '@@RSS %M', c.command, ...c.args] : c.args;
  const input = c.stdin === undefined ? 'ignore' : fs.openSync(c.stdin, 'r');
  const t0 = performance.now();
  const r = spawnSync(command, args, { stdio: [input, 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = (performance.now() - t0) / 1000;
  if (typeof input === 'number') fs.closeSync(input);
  if (r.status !== 0) throw new Error(`${c.name} failed (${r.status}): ${r.stderr}`);
  const rss = /@@RSS (\d+)/.exec(r.stderr);
  return { wall, rssMb: rss ? Number(rss[1]) / 1024 : Number.NaN, stdout: r.stdout };
}

/**
 * Every case once per round, rounds alternating, so drift on the shared machine hits all alike;
 * each round starts one case later, so no case always runs right after the same other one.
 */
function alternate(cases: Case[], rounds: number): Map<string, Run[]> {
  const out = new Map<string, Run[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < cases.length; j++) {
      const c = cases[(r + j) % cases.length]!;
      out.get(c.name)!.push(run(c));
    }
  }
  return out;
}

function table(title: string, runs: Map<string, Run[]>, baseline: Record<string, string>): void {
  console.log(`\n${title}`);
  console.log('case | median wall s | peak RSS MB | vs');
  for (const [name, rs] of runs) {
    const wall = median(rs.map((r) => r.wall));
    const base = baseline[name];
    const vs = base ? `${(wall / median(runs.get(base)!.map((r) => r.wall))).toFixed(2)}x ${base}` : '';
    console.log(`${name} | ${wall.toFixed(3)} | ${Math.max(...rs.map((r) => r.rssMb)).toFixed(0)} | ${vs}`);
  }
}

function tokensPerSecond(index: QueryIndex, vocab: Vocab, lines: string[], repeat: number): number {
  const scorer = new Scorer(index);
  const sentences = lines.map((l) => Int32Array.from(l.split(' ').filter(Boolean), (w) => vocab.lookup(w)));
  for (const s of sentences) scorer.sentence(s); // warm-up: the JIT compiles the loop first
  let tokens = 0;
  const t0 = performance.now();
  for (let r = 0; r < repeat; r++) for (const s of sentences) tokens += scorer.sentence(s).tokens;
  return tokens / ((performance.now() - t0) / 1000);
}

export function benchQueryProcesses(options: { cli: string; corpora: string; kenlm?: string; rounds: number }): void {
  const { cli, corpora, kenlm, rounds } = options;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbslm-bench-query-'));
  try {
    const arpa = path.join(dir, 'kjv5.arpa');
    const binary = path.join(dir, 'kjv5.dbslm');
    const probing = path.join(dir, 'kjv5.probing');
    const test = path.join(corpora, 'kjv.test.txt');
    const empty = path.join(dir, 'empty.txt');
    fs.writeFileSync(empty, '');
    run({ name: 'build', command: cli, args: ['build', '-q', '--order', '5', '--arpa', arpa, '--binary', binary, path.join(corpora, 'kjv.train.txt')] });
    if (kenlm) run({ name: 'build_binary', command: path.join(kenlm, 'build_binary'), args: [arpa, probing] });
    const mb = (f: string): string => `${(fs.statSync(f).size / 1e6).toFixed(1)} MB`;
    console.log(`\norder-5 model of kjv.train.txt: ARPA ${mb(arpa)}, dbslm binary ${mb(binary)}${kenlm ? `, KenLM probing binary ${mb(probing)}` : ''}; ${rounds} rounds alternating, ${os.cpus().length} cores`);

    const ppl = (name: string, model: string, text: string): Case => ({ name, command: cli, args: ['ppl', '-q', '--model', model, text] });
    const query = (name: string, model: string, text: string): Case => ({ name, command: path.join(kenlm!, 'query'), args: ['-v', 'summary', model], stdin: text });
    const scoring: Case[] = [ppl('dbslm ppl, ARPA', arpa, test), ppl('dbslm ppl, binary', binary, test)];
    const loading: Case[] = [ppl('dbslm ppl, ARPA, no text', arpa, empty), ppl('dbslm ppl, binary, no text', binary, empty), { name: 'node, empty script', command: process.execPath, args: ['-e', '0'] }];
    if (kenlm) {
      scoring.push(query('KenLM query, ARPA', arpa, test), query('KenLM query, probing binary', probing, test));
      loading.push(query('KenLM query, ARPA, no text', arpa, empty), query('KenLM query, probing binary, no text', probing, empty));
    }
    const scored = alternate(scoring, rounds);
    const [fromArpa, fromBinary] = [scored.get('dbslm ppl, ARPA')![0].stdout, scored.get('dbslm ppl, binary')![0].stdout];
    if (fromArpa !== fromBinary) throw new Error(`ppl from the binary differs from ppl from the ARPA:\n${fromArpa}\n${fromBinary}`);
    table('ppl of kjv.test.txt, whole process (the same output from ARPA and binary; target from a binary: <= 0.3 s)', scored, {
      'dbslm ppl, ARPA': kenlm ? 'KenLM query, ARPA' : '',
      'dbslm ppl, binary': kenlm ? 'KenLM query, probing binary' : '',
    });
    table('load alone: the same processes with empty test text', alternate(loading, rounds), {
      'dbslm ppl, binary, no text': kenlm ? 'KenLM query, probing binary, no text' : 'node, empty script',
    });

    // In-process: the read, a checksum pass over the fresh bytes, then the open (which checksums them again).
    const reads: number[] = [];
    const crcs: number[] = [];
    const opens: number[] = [];
    let bytes = Buffer.alloc(0);
    for (let r = 0; r < rounds; r++) {
      let t0 = performance.now();
      bytes = fs.readFileSync(binary);
      reads.push(performance.now() - t0);
      t0 = performance.now();
      zlib.crc32(bytes);
      crcs.push(performance.now() - t0);
      t0 = performance.now();
      readBinaryModel(bytes, binary);
      opens.push(performance.now() - t0);
    }
    const model = readBinaryModel(bytes, binary);
    let t0 = performance.now();
    const lm = rebuildLanguageModel(model);
    const rebuild = performance.now() - t0;
    console.log(
      `\nin-process, medians: read ${median(reads).toFixed(1)} ms; a CRC-32 of the bytes just read ${median(crcs).toFixed(1)} ms (${((bytes.length / 1e6 / median(crcs)) * 1000).toFixed(0)} MB/s, their first touch since the read); ` +
        `then open (checksum again + views + the vocabulary's byte index) ${median(opens).toFixed(1)} ms; ` +
        `the trie for sample/topk/quantize/convert, rebuilt once: ${rebuild.toFixed(0)} ms`,
    );

    const lines = fs.readFileSync(test, 'utf8').split('\n').filter((l) => l !== '');
    t0 = performance.now();
    const memoryIndex = buildQueryIndex(lm);
    const indexMs = performance.now() - t0;
    const fromFile = tokensPerSecond(model.index, model.vocab, lines, 50);
    const inMemory = tokensPerSecond(memoryIndex, lm.vocab, lines, 50);
    console.log(
      `tokens/s once loaded (kjv.test.txt x50, scoring only): binary's tables (filled to 0.75) ${(fromFile / 1e6).toFixed(2)}M; ` +
        `tables built in memory (filled to 0.5, ${indexMs.toFixed(0)} ms to build) ${(inMemory / 1e6).toFixed(2)}M; ratio ${(fromFile / inMemory).toFixed(2)}`,
    );

    // Top-K from a binary with a follower index: the write cost (one Top-K build, for the heads'
    // codebook), then microseconds per query once loaded, over every position of kjv.test.txt.
    const withTopK = path.join(dir, 'kjv5.topk.dbslm');
    const written = run({ name: 'convert --topk', command: cli, args: ['convert', '-q', '--topk', '32', arpa, withTopK] });
    const topkModel = readBinaryModel(fs.readFileSync(withTopK), withTopK);
    const head = openTopK(topkModel, 32, 8)!;
    const histories: number[][] = [];
    for (const line of lines) {
      const ids = [BOS, ...line.split(' ').filter(Boolean).map((w) => topkModel.vocab.lookup(w))];
      for (let end = 1; end <= ids.length; end++) histories.push(ids.slice(Math.max(0, end - 4), end));
    }
    for (const h of histories.slice(0, 2000)) head(h); // warm-up
    t0 = performance.now();
    for (const h of histories) head(h);
    const perQuery = ((performance.now() - t0) * 1000) / histories.length;
    const topkRuns = alternate([{ name: 'dbslm topk, binary with --topk', command: cli, args: ['topk', '--model', withTopK, '--context', 'the LORD'] }], rounds);
    console.log(
      `topk from the follower index (K 32, 8-bit codebook): ${perQuery.toFixed(1)} µs per query over ${histories.length} histories; ` +
        `whole process \`topk --model kjv5.topk.dbslm --context "the LORD"\` ${median(topkRuns.get('dbslm topk, binary with --topk')!.map((r) => r.wall)).toFixed(3)} s; ` +
        `writing it (convert --topk 32, the heads' codebook built once) ${written.wall.toFixed(1)} s, file ${mb(withTopK)}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
