// Can this definition run here? Inputs exist and are readable (NDJSON ones with a valid dataset
// config whose fields are in the first record), outputs can be written, and the store named by
// store.join answers, or spawned actors can bind store.address. Each check looks at the sections
// that are valid by themselves (load.ts), so its problems come together with the schema's. Nothing
// is written, except that a probe directory is made and removed in the nearest existing parent of
// each output, the one sure test of writing.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import zlib from 'node:zlib';
import { fieldsRead, findDatasetConfig, datasetConfigCandidates, loadDatasetConfig, type LoadedDatasetConfig } from './dataset_config.js';
import type { InputDefinition } from './definition.js';
import type { LoadedPipeline } from './load.js';
import { formatPath, type DefinitionPath, type Problem } from './problems.js';
import { defaultStoreDir, resolveInput, resolvePath } from './resolve.js';
import { InputSchema } from './schema.js';
import { valueAt } from './schema_problems.js';
import { isLoopbackEndpoint, memberCurveKeys } from '../../store/protocol/endpoint.js';
import { DEFAULT_PING_TIMEOUT_MS, pingStoreActor } from './store_ping.js';

export interface EnvironmentOptions {
  /** How long a store.join endpoint has to answer a ping. */
  pingTimeoutMs?: number;
}

/** A path as problems show it: relative to the working directory when under it. */
export function shownPath(absolute: string): string {
  const rel = path.relative(process.cwd(), absolute);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : absolute;
}

export async function validateEnvironment(loaded: LoadedPipeline, options: EnvironmentOptions = {}): Promise<Problem[]> {
  const check = new EnvironmentCheck(loaded);
  for (const target of inputTargets(loaded)) await check.input(target.at, target.input);
  check.outputs();
  await check.storeJoin(options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS);
  await check.storeAddress();
  return check.problems;
}

/**
 * Why spawned store actors cannot bind `address`, or null: it must be an address of this machine,
 * and loopback unless the store's CURVE keys are in the environment (the actor refuses otherwise:
 * store/protocol/endpoint.ts). `pipeline run` asks too, before it starts any actor.
 */
export async function spawnedStoreBindProblem(address: string): Promise<string | null> {
  if (!isLoopbackEndpoint(`tcp://${address}:0`) && !memberCurveKeys()) {
    return `${address} is not a loopback address, and the store's actors bind one only with CURVE keys: set DBSLM_STORE_CURVE_PUBLIC and DBSLM_STORE_CURVE_SECRET (dbslm store keys makes a pair), or bind 127.0.0.1`;
  }
  const failure = await new Promise<string | null>((resolve) => {
    const server = net.createServer();
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    server.listen(0, address, () => server.close(() => resolve(null)));
  });
  return failure ? `cannot bind ${address} on this machine (${failure}): give an address of one of its interfaces` : null;
}

/** The training and test inputs that are valid by themselves, with where each is written. */
function inputTargets(loaded: LoadedPipeline): { at: DefinitionPath; input: InputDefinition }[] {
  const out: { at: DefinitionPath; input: InputDefinition }[] = [];
  for (const base of [['inputs'], ['stages', 'evaluate', 'test']]) {
    const list = valueAt(loaded.data, base).value;
    if (!Array.isArray(list)) continue;
    list.forEach((item, i) => {
      const parsed = InputSchema.safeParse(item);
      if (parsed.success) out.push({ at: [...base, i], input: resolveInput(parsed.data, loaded.baseDir) });
    });
  }
  return out;
}

class EnvironmentCheck {
  readonly problems: Problem[] = [];
  private readonly configs = new Map<string, LoadedDatasetConfig>();

  constructor(private readonly loaded: LoadedPipeline) {}

  private report(at: DefinitionPath, message: string): void {
    this.problems.push({ kind: 'environment', source: this.loaded.locator.locate(at), path: formatPath(at), message });
  }

  async input(at: DefinitionPath, input: InputDefinition): Promise<void> {
    if (input.path === '-') {
      if (input.config !== null) this.datasetConfig([...at, 'config'], input.config);
      return;
    }
    const files = this.inputFiles([...at, 'path'], input.path);
    if (input.format !== 'ndjson') return;
    for (const file of files) {
      const configFile = input.config ?? findDatasetConfig(file);
      if (configFile === null) {
        const tried = datasetConfigCandidates(file).map((c) => path.basename(c));
        this.report([...at, 'path'], `no dataset config for ${shownPath(file)}: looked for ${tried.join(', ')} beside it; add one, or name it with config:`);
        return;
      }
      const config = this.datasetConfig(input.config !== null ? [...at, 'config'] : [...at, 'path'], configFile);
      if (config?.config) await this.firstRecord(file, config);
    }
  }

  /** The files an input path stands for; [] after reporting why there are none. */
  private inputFiles(at: DefinitionPath, file: string): string[] {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat === undefined) {
      this.report(at, `no such file or directory: ${shownPath(file)}`);
      return [];
    }
    try {
      if (stat.isDirectory()) {
        const files = listFiles(file);
        if (files.length === 0) this.report(at, `the directory ${shownPath(file)} has no files`);
        return files;
      }
      fs.closeSync(fs.openSync(file, 'r'));
      return [file];
    } catch (e) {
      this.report(at, `cannot read ${shownPath(file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return [];
    }
  }

  private datasetConfig(at: DefinitionPath, file: string): LoadedDatasetConfig | null {
    let loaded = this.configs.get(file);
    if (loaded === undefined) {
      if (!fs.existsSync(file)) {
        this.report(at, `no such dataset config: ${shownPath(file)}`);
        return null;
      }
      loaded = loadDatasetConfig(file, shownPath(file));
      this.configs.set(file, loaded);
      this.problems.push(...loaded.problems);
    }
    return loaded;
  }

  /** The fields the config reads must be in the file's first record. */
  private async firstRecord(file: string, config: LoadedDatasetConfig): Promise<void> {
    const shown = shownPath(file);
    const fileAt = (line: number) => ({ kind: 'file' as const, file: shown, line, column: 1 });
    let first: { text: string; line: number } | null;
    try {
      first = await firstNonEmptyLine(file);
    } catch (e) {
      this.problems.push({ kind: 'environment', source: fileAt(1), path: '(data)', message: `cannot read: ${(e as Error).message}` });
      return;
    }
    if (first === null) {
      this.problems.push({ kind: 'environment', source: fileAt(1), path: '(data)', message: 'no records: the file is empty' });
      return;
    }
    let record: unknown;
    try {
      record = JSON.parse(first.text);
    } catch (e) {
      this.problems.push({ kind: 'environment', source: fileAt(first.line), path: '(first record)', message: `not JSON: ${(e as Error).message}` });
      return;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      this.problems.push({ kind: 'environment', source: fileAt(first.line), path: '(first record)', message: 'expected a JSON object with the dataset fields' });
      return;
    }
    const has = Object.keys(record);
    for (const { at, field } of fieldsRead(config.config!)) {
      if (has.includes(field)) continue;
      this.problems.push({
        kind: 'environment',
        source: config.locator!.locate(at),
        path: formatPath(at),
        message: `field ${JSON.stringify(field)} is not in the first record of ${shown} (it has ${has.join(', ') || 'no fields'})`,
      });
    }
  }

  /** The ARPA file's directory, the store's data directory and the ipc socket directory can be made and written. */
  outputs(): void {
    const { parts, baseDir, name } = this.loaded;
    if (parts.export?.arpa !== undefined) {
      const arpa = resolvePath(parts.export.arpa, baseDir);
      if (fs.statSync(arpa, { throwIfNoEntry: false })?.isDirectory()) this.report(['export', 'arpa'], `${shownPath(arpa)} is a directory; name the ARPA file to write`);
      else this.writable(['export', 'arpa'], path.dirname(arpa), 'the ARPA file');
    }
    if (parts.store !== undefined && parts.store.join === undefined) {
      const written = parts.store.data !== undefined;
      const dir = written ? resolvePath(parts.store.data!, baseDir) : defaultStoreDir(name, baseDir);
      this.writable(['store', 'data'], dir, written ? 'store data' : 'store data (the default directory)');
    }
    if (parts.transport?.dir !== undefined) this.writable(['transport', 'dir'], resolvePath(parts.transport.dir, baseDir), 'ipc sockets');
  }

  private writable(at: DefinitionPath, dir: string, what: string): void {
    let existing = dir;
    while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
    const stat = fs.statSync(existing, { throwIfNoEntry: false });
    if (!stat?.isDirectory()) {
      this.report(at, `cannot write ${what} in ${shownPath(dir)}: ${shownPath(existing)} is a file, not a directory`);
      return;
    }
    try {
      fs.rmdirSync(fs.mkdtempSync(path.join(existing, '.dbslm-write-check-')));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      this.report(at, `cannot write ${what} in ${shownPath(dir)}: ${shownPath(existing)} is not writable (${code})`);
    }
  }

  /** Spawned actors can bind store.address (spawnedStoreBindProblem). */
  async storeAddress(): Promise<void> {
    const address = this.loaded.parts.store?.join === undefined ? this.loaded.parts.store?.address : undefined;
    const problem = address === undefined ? null : await spawnedStoreBindProblem(address);
    if (problem) this.report(['store', 'address'], problem);
  }

  /** Every store.join endpoint answers a ping (all at once, so the wait is one timeout at most). */
  async storeJoin(timeoutMs: number): Promise<void> {
    const join = this.loaded.parts.store?.join ?? [];
    const results = await Promise.all(join.map((endpoint) => pingStoreActor(endpoint, timeoutMs)));
    results.forEach((r, i) => {
      if (!r.ok) this.report(['store', 'join', i], r.reason);
    });
  }
}

/** A directory's files, recursively, in name order, hidden ones skipped (as the CLI's inputs). */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

async function firstNonEmptyLine(file: string): Promise<{ text: string; line: number } | null> {
  const stream = fs.createReadStream(file);
  const input = file.endsWith('.gz') ? stream.pipe(zlib.createGunzip()) : stream;
  const failed = new Promise<never>((_, reject) => input.on('error', reject));
  failed.catch(() => undefined); // an error after the first line is found does not matter
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  try {
    const read = (async () => {
      let line = 0;
      for await (const text of lines) {
        line++;
        if (text.trim() !== '') return { text, line };
      }
      return null;
    })();
    return await Promise.race([read, failed]);
  } finally {
    lines.close();
    stream.destroy();
  }
}
