// Where tests find the project, the CLI and the shared reference data.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
export const BUNDLED_TRAIN = path.join(ROOT, 'config', 'corpus', 'kjv.sample.txt');
export const BUNDLED_TEST = path.join(ROOT, 'config', 'corpus', 'kjv.sample.test.txt');

/** ../shared beside the repository: present under CI, absent in a user's clone. */
export const SHARED = path.resolve(ROOT, '..', 'shared');
export const HAS_SHARED = fs.existsSync(path.join(SHARED, 'reference', 'kenlm', 'kjv3.arpa.gz'));
export const SHARED_SKIP_NOTE = 'skipped: ../shared (KJV corpora and KenLM references) is absent, as in a user clone';
