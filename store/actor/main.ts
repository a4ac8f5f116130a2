// Start one store actor process (what `dbslm store start` runs; also runnable directly:
// `node dist/store/actor_main.js --id a --data DIR`). Prints `listening <endpoint>` once serving,
// stops gracefully on SIGTERM/SIGINT or a `stop` command.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Options } from 'yargs';
import { StoreActor } from './actor.js';
import { actorExtensions } from './extensions.js';
import { ForkMap } from '../map/fork_map.js';
import { StoreClient } from '../client/client.js';
import { checkEndpoint, memberCurveKeys } from '../protocol/endpoint.js';
import { SecurityMismatchError } from '../protocol/security_mismatch.js';
import { asStartupFileError, StoreFileError } from './file_errors.js';

export const startOptions = {
  id: { type: 'string', demandOption: true, describe: 'Actor id, unique in the cluster (A-Z a-z 0-9 _ . -)' },
  bind: { type: 'string', default: 'tcp://127.0.0.1:0', describe: 'ZeroMQ endpoint to bind, tcp://HOST:PORT or ipc://PATH (port 0 = any free port; the bound one is printed)' },
  data: { type: 'string', demandOption: true, describe: 'Data directory (SQLite database and fork map)' },
  join: { type: 'string', array: true, default: [] as string[], describe: 'Endpoint of an existing member to join, e.g. tcp://127.0.0.1:5555 (repeatable)' },
  durability: { choices: ['normal', 'full'] as const, default: 'normal' as const, describe: 'normal: acknowledged writes survive a process crash; full: also power loss (fsync per commit)' },
  insecure: { type: 'boolean', default: false, describe: 'Allow a non-loopback bind without CURVE authentication' },
  plugin: { type: 'string', array: true, default: [] as string[], describe: 'Module to import before serving (e.g. one registering reducers)' },
  'dead-after': { type: 'number', default: 5000, describe: 'Milliseconds within which the others mark a crashed member dead (gossip; also sets the write lease to half of it)' },
  'spread-over': { type: 'string', array: true, default: [] as string[], describe: 'Ids of the members a fresh cluster will have (this one among them, comma-separated or repeated): its forks are dealt to them round-robin from the start rather than all owned here and moved later. Start the others with --join; ignored when the data directory already holds a fork map' },
  replicas: { type: 'number', default: 1, describe: 'Copies of each fork this member owns, its own included (give every member the same); with 2 or more a write is acknowledged once every in-sync replica committed it, and a dead owner\'s forks fail over to a replica' },
} satisfies Record<string, Options>;

export interface StartArgs {
  id: string;
  bind: string;
  data: string;
  join: string[];
  durability: 'normal' | 'full';
  insecure: boolean;
  plugin: string[];
  deadAfter?: number;
  replicas?: number;
  /** Members of a fresh cluster to deal the forks to (--spread-over); empty: all forks here. */
  spreadOver?: string[];
}

/** --spread-over's ids (repeated or comma-separated), checked against --id and --join. */
export function spreadOwners(args: Pick<StartArgs, 'id' | 'join' | 'spreadOver'>): string[] {
  const ids = [...new Set((args.spreadOver ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0))];
  if (ids.length === 0) return ids;
  if (args.join.length > 0) throw new Error('--spread-over is for the member that starts a cluster; a joining member takes the map of the cluster it joins (drop one of --spread-over and --join)');
  if (!ids.includes(args.id)) throw new Error(`--spread-over must list this member's own id (${args.id}) among ${ids.join(', ')}`);
  const bad = ids.find((v) => !/^[A-Za-z0-9_.-]+$/.test(v));
  if (bad !== undefined) throw new Error(`--spread-over: ${JSON.stringify(bad)} is not a member id (A-Z a-z 0-9 _ . -)`);
  return ids;
}

/** The first member's map, so a fresh actor joining a cluster starts owning nothing. */
async function fetchMap(join: string[]): Promise<ForkMap> {
  const c = await StoreClient.connect(join, { timeoutMs: 3000, retries: 2 });
  try {
    return c.map;
  } finally {
    c.close();
  }
}

/** Exit code of a failed start: 1 when one of the actor's files could not be opened or written, 2 for anything else (flags, bind). */
export function startFailureCode(err: unknown): number {
  return err instanceof StoreFileError ? 1 : 2;
}

/** Start an actor; a file it cannot open or write (its own or the cluster layer's) fails as a StoreFileError naming it. */
export async function runActor(args: StartArgs): Promise<StoreActor> {
  try {
    return await startActor(args);
  } catch (err) {
    throw asStartupFileError(err);
  }
}

async function startActor(args: StartArgs): Promise<StoreActor> {
  checkEndpoint(args.bind, '--bind');
  for (const member of args.join) checkEndpoint(member, '--join');
  if (args.replicas !== undefined && !(Number.isInteger(args.replicas) && args.replicas >= 1)) throw new Error(`--replicas must be a whole number of at least 1, got ${args.replicas}`);
  for (const p of args.plugin) await import(p.startsWith('.') || p.startsWith('/') ? pathToFileURL(p).href : p);
  const curve = memberCurveKeys();
  const spread = spreadOwners(args);
  // The initial map only seeds a fresh data directory (one that holds a fork map keeps it). A seed that is down
  // does not stop the start: the actor begins owning nothing and learns the map by gossip. A seed that refuses
  // this member's security setup (CURVE against plain, another key pair) does: it cannot join.
  const initialMap = args.join.length
    ? await fetchMap(args.join).catch((err: Error) => {
        if (err.cause instanceof SecurityMismatchError) throw new Error(`cannot join the cluster: ${err.cause.message}`);
        return undefined;
      })
    : spread.length > 1
      ? ForkMap.spread(spread)
      : undefined;
  const actor = new StoreActor({ id: args.id, bind: args.bind, dataDir: args.data, durability: args.durability, insecure: args.insecure, curve, initialMap, joining: args.join.length > 0 });
  const endpoint = await actor.start();
  for (const ext of actorExtensions) await ext(actor, { join: args.join, deadAfterMs: args.deadAfter, replicas: args.replicas });
  process.stdout.write(`listening ${endpoint}\n`);
  let stopping = false;
  const shutdown = (code: number) => {
    if (stopping) return;
    stopping = true;
    void actor.stop().then(
      () => process.exit(code),
      (err) => {
        process.stderr.write(`store actor ${args.id}: stop failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));
  actor.onStopped = () => process.exit(0);
  return actor;
}

/**
 * The direct run's flags (how tests, benches and pipelines launch actors), read with node:util's
 * parseArgs from the same `startOptions` as `dbslm store start`: loading yargs and cliui cost an
 * actor ~40 ms of its ~0.4 s of start-up CPU, and actors are started by the hundred.
 */
export function parseStartArgs(argv: string[]): StartArgs {
  const spec = Object.fromEntries(
    Object.entries(startOptions).map(([name, opt]) => [name, { type: 'type' in opt && opt.type === 'boolean' ? ('boolean' as const) : ('string' as const), multiple: 'array' in opt }]),
  );
  const { values } = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false });
  for (const [name, opt] of Object.entries(startOptions)) {
    if ('demandOption' in opt && values[name] === undefined) throw new Error(`missing required flag --${name}`);
  }
  const durability = (values.durability as string | undefined) ?? startOptions.durability.default;
  if (!startOptions.durability.choices.includes(durability as StartArgs['durability'])) {
    throw new Error(`--durability must be one of ${startOptions.durability.choices.join(', ')}, got ${JSON.stringify(durability)}`);
  }
  const number = (name: 'dead-after' | 'replicas', what: string): number => {
    const text = values[name] as string | undefined;
    const n = text === undefined ? startOptions[name].default : Number(text);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be ${what}, got ${JSON.stringify(text)}`);
    return n;
  };
  const deadAfter = number('dead-after', 'a number of milliseconds');
  const replicas = number('replicas', 'a whole number of copies');
  return {
    id: values.id as string,
    bind: (values.bind as string | undefined) ?? startOptions.bind.default,
    data: values.data as string,
    join: (values.join as string[] | undefined) ?? [],
    durability: durability as StartArgs['durability'],
    insecure: (values.insecure as boolean | undefined) ?? false,
    plugin: (values.plugin as string[] | undefined) ?? [],
    deadAfter,
    replicas,
    spreadOver: (values['spread-over'] as string[] | undefined) ?? [],
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let args: StartArgs;
  try {
    args = parseStartArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`dbslm store start: ${(err as Error).message} (see dbslm store start --help)\n`);
    process.exit(2);
  }
  await runActor(args).catch((err: Error) => {
    process.stderr.write(`dbslm store start: ${err.message}\n`);
    process.exit(startFailureCode(err));
  });
}
