// bin/dbslm, the installed command: it runs dist/cli/main.js under the node on PATH with glibc's
// malloc tunables added to GLIBC_TUNABLES, keeping any other tunables and any of these the user
// set. The tunables are checked with a stand-in `node` first on PATH that prints its
// environment and arguments; the real one is run too.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CLI, ROOT } from './helpers/paths.js';
import { tempDir } from './helpers/temp_dir.js';

const WRAPPER = path.join(ROOT, 'bin', 'dbslm');
const fakeBin = tempDir('dbslm-wrapper-');
fs.writeFileSync(path.join(fakeBin, 'node'), '#!/bin/sh\nprintf "%s\\n" "${GLIBC_TUNABLES-unset}" "$@"\n', { mode: 0o755 });

function wrapped(tunables: string | undefined, command = 'ppl'): string[] {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` };
  delete env.GLIBC_TUNABLES;
  if (tunables !== undefined) env.GLIBC_TUNABLES = tunables;
  const r = spawnSync(WRAPPER, [command, '--model', 'a b.dbslm'], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bin/dbslm exited ${r.status}: ${r.stderr}`);
  return r.stdout.trimEnd().split('\n');
}

const ONE_MODEL = 'glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456';

test('bin/dbslm adds the malloc tunables, keeps the others and those the user set, and passes the arguments as they are', (t) => {
  const main = fs.realpathSync(CLI);
  const [tunables, script, ...args] = wrapped(undefined);
  t.is(tunables, `glibc.malloc.hugetlb=1:${ONE_MODEL}`);
  t.is(fs.realpathSync(script!), main);
  t.deepEqual(args, ['ppl', '--model', 'a b.dbslm']);
  // Long-running commands keep glibc's thresholds.
  t.is(wrapped(undefined, 'store')[0], 'glibc.malloc.hugetlb=1');
  t.is(wrapped('glibc.malloc.arena_max=2', 'pipeline')[0], 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
  t.is(wrapped('glibc.malloc.hugetlb=0:glibc.malloc.trim_threshold=0')[0], 'glibc.malloc.hugetlb=0:glibc.malloc.trim_threshold=0:glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=33554432');
  t.is(wrapped('glibc.rtld.optional_static_tls=1:glibc.malloc.hugetlb=2', 'generate')[0], 'glibc.rtld.optional_static_tls=1:glibc.malloc.hugetlb=2');
});

test('bin/dbslm runs the real command line', (t) => {
  const viaWrapper = spawnSync(WRAPPER, ['--version'], { encoding: 'utf8' });
  const direct = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
  t.is(viaWrapper.status, 0, viaWrapper.stderr);
  t.is(viaWrapper.stdout, direct.stdout);
  t.regex(viaWrapper.stdout, /^\d+\.\d+\.\d+\n$/);
});
