// The typed API as a Node user imports it: the package's main entry and its declarations.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT } from './helpers/paths.js';

test('the package exports Engine from its main entry, with type declarations', async (t) => {
  const pkg = createRequire(import.meta.url)(path.join(ROOT, 'package.json')) as { main: string; types: string };
  const api = (await import(path.join(ROOT, pkg.main))) as { Engine?: { open?: unknown } };
  t.is(typeof api.Engine?.open, 'function');
  const types = fs.readFileSync(path.join(ROOT, pkg.types), 'utf8');
  t.regex(types, /Engine/);
  t.regex(fs.readFileSync(path.join(ROOT, 'dist', 'generate', 'engine.d.ts'), 'utf8'), /stream\(request: GenerateRequest/);
});
