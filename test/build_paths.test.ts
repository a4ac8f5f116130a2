// Every way of building yields the same model: in-process, through the CLI, from stdin, from a
// directory of parts, counted on one thread or two, and with the ARPA formatted on one thread or
// two, its words walked up the trie or read where counting saw them.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { arpaChunks } from '../model/arpa_write.js';
import { ArpaWriter } from '../cli/io/arpa_parallel.js';
import { buildFromFile } from './helpers/corpus.js';
import { BUNDLED_TRAIN, CLI } from './helpers/paths.js';
import { tempDir } from './helpers/temp_dir.js';

const tmp = () => tempDir('dbslm-paths-');
const inProcess = (order: number) => {
  const built = buildFromFile(BUNDLED_TRAIN, order);
  return Buffer.from([...arpaChunks(built.lm, built.counts)].map((c) => c.toString()).join(''));
};

test('the CLI, stdin and a directory of parts all give the in-process model, byte for byte', (t) => {
  const dir = tmp();
  const expected = inProcess(3);
  const cli = (args: string[], input?: Buffer) => spawnSync(process.execPath, [CLI, 'build', '-q', '--order', '3', ...args], { input });

  t.is(cli(['--arpa', path.join(dir, 'file.arpa'), BUNDLED_TRAIN]).status, 0);
  t.true(fs.readFileSync(path.join(dir, 'file.arpa')).equals(expected), 'file input');

  // A small input defaults to one thread; asked for two, it is read in two pieces (256 KB
  // each) counted on a worker thread, and formatted on two threads from the paths.
  t.is(cli(['--threads', '2', '--arpa', path.join(dir, 'threads.arpa'), BUNDLED_TRAIN]).status, 0);
  t.true(fs.readFileSync(path.join(dir, 'threads.arpa')).equals(expected), '--threads 2');

  t.is(cli(['--arpa', path.join(dir, 'stdin.arpa'), '-'], fs.readFileSync(BUNDLED_TRAIN)).status, 0);
  t.true(fs.readFileSync(path.join(dir, 'stdin.arpa')).equals(expected), 'stdin');

  // Split at a line boundary into files read in name order.
  const lines = fs.readFileSync(BUNDLED_TRAIN, 'utf8').split(/(?<=\n)/);
  const parts = path.join(dir, 'parts');
  fs.mkdirSync(path.join(parts, 'b'), { recursive: true });
  fs.writeFileSync(path.join(parts, 'a.txt'), lines.slice(0, 1000).join(''));
  fs.writeFileSync(path.join(parts, 'b', 'c.txt'), lines.slice(1000).join(''));
  t.is(cli(['--arpa', path.join(dir, 'dir.arpa'), parts]).status, 0);
  t.true(fs.readFileSync(path.join(dir, 'dir.arpa')).equals(expected), 'directory of parts');
});

test('ARPA formatted on two threads equals one thread, byte for byte, with or without the paths', async (t) => {
  const built = buildFromFile(BUNDLED_TRAIN, 5);
  t.truthy(built.paths, 'counting the corpus whole records where the n-grams lie');
  const dir = tmp();
  await new ArpaWriter(true, 1000).write(path.join(dir, 'two.arpa'), built.lm, built.counts);
  await new ArpaWriter(true, 1000).write(path.join(dir, 'paths.arpa'), built.lm, built.counts, built.paths);
  const one = Buffer.from([...arpaChunks(built.lm, built.counts)].map((c) => c.toString()).join(''));
  t.true(fs.readFileSync(path.join(dir, 'two.arpa')).equals(one));
  t.true(fs.readFileSync(path.join(dir, 'paths.arpa')).equals(one), 'words read from the corpus');
  t.deepEqual(fs.readdirSync(dir).sort(), ['paths.arpa', 'two.arpa'], 'no temporary file left');
});

test('ARPA on two threads through many small blocks, a ring that fills, and chunks split over slots, equals one thread', async (t) => {
  const built = buildFromFile(BUNDLED_TRAIN, 4);
  const dir = tmp();
  const one = Buffer.from([...arpaChunks(built.lm, built.counts)].map((c) => c.toString()).join(''));
  // Blocks of ~8 KB of text, 1 KB chunks, 2 slots of 300 bytes: the worker waits for room at
  // nearly every chunk, and every chunk fills several slots.
  const sizes = { pairBytes: 8 << 10, chunkBytes: 1 << 10, ringSlots: 2, slotBytes: 300 };
  await new ArpaWriter(true, 1000, sizes).write(path.join(dir, 'small.arpa'), built.lm, built.counts, built.paths);
  t.true(fs.readFileSync(path.join(dir, 'small.arpa')).equals(one));
});
