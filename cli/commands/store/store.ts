// `dbslm store ...`: start an actor, and talk to a running store through any member (--connect).
// Keys are written `ns:prefix|rest` (see store/protocol/keys.ts); `move` and `rebalance` come
// from the cluster layer (cluster.ts beside this file).
import type { Argv, CommandModule } from 'yargs';
import { runActor, startFailureCode, startOptions, type StartArgs } from '../../../store/actor/main.js';
import type { StoreClient, Value } from '../../../store/client/client.js';
import { getFromReplica } from '../../../store/client/replica_reads.js';
import { withClient } from './connect.js';
import { parseIncrement } from './increment.js';
import { valueBytes } from './value_input.js';
import { connectOptions, type ConnectArgs } from '../../options.js';
import { clusterCommands, printClusterStatus } from './cluster.js';
import { importCommand } from './import.js';
import { formatKey, makeKey, parseTextKey, rangePrefix, textKey } from '../../../store/protocol/keys.js';


/** Counters print as decimal; UTF-8 text as is; other bytes as 0x-hex. */
export function formatValue(v: Value): string {
  if (v === undefined) return '';
  if (typeof v === 'bigint') return v.toString();
  const text = v.toString('utf8');
  return Buffer.from(text, 'utf8').equals(v) && !/[\x00-\x08\x0e-\x1f\n]/.test(text) ? text : `0x${v.toString('hex')}`;
}

const out = (line: string) => process.stdout.write(line + '\n');

const start: CommandModule<object, StartArgs> = {
  command: 'start',
  describe: 'Start a store actor in this process (prints "listening <endpoint>" once serving); with DBSLM_STORE_CURVE_PUBLIC and _SECRET set (dbslm store keys) it speaks CURVE',
  builder: (y) => y.options(startOptions) as unknown as Argv<StartArgs>,
  handler: async (args) => {
    try {
      await runActor(args);
    } catch (err) {
      process.stderr.write(`dbslm store start: ${(err as Error).message}\n`);
      process.exit(startFailureCode(err));
    }
    await new Promise(() => undefined); // serve until SIGTERM or a stop command
  },
};

const keys: CommandModule<object, { json: boolean }> = {
  command: 'keys',
  describe: 'Make a CURVE key pair for a cluster: prints the shell lines that set it (start every member with both, give clients the public key)',
  builder: (y) => y.option('json', { type: 'boolean', default: false, describe: 'Print {"publicKey", "secretKey"} as JSON' }) as Argv<{ json: boolean }>,
  handler: async (args) => {
    const { curveKeyPair } = (await import('zeromq')).default;
    const pair = curveKeyPair();
    // z85 has no quote or backslash, so single quotes keep every character as it is.
    if (args.json) out(JSON.stringify(pair));
    else out(`export DBSLM_STORE_CURVE_PUBLIC='${pair.publicKey}'\nexport DBSLM_STORE_CURVE_SECRET='${pair.secretKey}'`);
  },
};

const stop: CommandModule<object, ConnectArgs> = {
  command: 'stop',
  describe: 'Stop the actor at --connect gracefully (flushes writes, closes its database)',
  builder: (y) => y.options(connectOptions),
  handler: (args) => withClient(args, async (c) => void (await c.call(args.connect, 'stop', {}))),
};

type KeyArgs = ConnectArgs & { key: string };
const keyPos = (y: Argv<ConnectArgs>) =>
  y.positional('key', { type: 'string', demandOption: true, describe: 'Key as ns:prefix|rest (prefix = routing prefix; \\xHH for raw bytes); without "ns:" the namespace is kv' });

const locate: CommandModule<object, KeyArgs> = {
  command: 'locate <key>',
  describe: 'Print the fork holding KEY and its owner, as fork=<id> owner=<actor id>',
  builder: (y) => keyPos(y.options(connectOptions)) as Argv<KeyArgs>,
  handler: (args) =>
    withClient(args, async (c) => {
      const e = c.locate(textKey(args.key));
      out(`fork=${e.fork} owner=${e.owner}`);
    }),
};

type GetArgs = KeyArgs & { readFrom: 'owner' | 'replica' };
const get: CommandModule<object, GetArgs> = {
  command: 'get <key>',
  describe: 'Print the value of KEY alone on one line (counters in decimal); exit 1 if missing',
  builder: (y) =>
    keyPos(y.options(connectOptions)).option('read-from', {
      choices: ['owner', 'replica'] as const,
      default: 'owner' as const,
      describe: 'replica: let an in-sync replica of the fork answer (the owner if none does); stderr says who answered and how stale it may be',
    }) as unknown as Argv<GetArgs>,
  handler: (args) =>
    withClient(args, async (c) => {
      const key = textKey(args.key);
      let v: Value;
      if (args.readFrom === 'replica') {
        const r = await getFromReplica(c, key);
        v = r.value;
        const since = r.sinceMs < 0 ? 'no change applied since it started' : `last change applied ${r.sinceMs} ms ago`;
        process.stderr.write(r.fromReplica ? `served by ${r.servedBy}, in-sync replica of ${r.owner} (fork ${r.fork}): changes up to ${r.applied} of term ${r.term}, ${since}\n` : `served by the owner ${r.owner} (fork ${r.fork}): no in-sync replica answered\n`);
      } else v = await c.get(key);
      if (v === undefined) throw new Error(`key ${args.key} not found`);
      out(formatValue(v));
    }),
};

type SetArgs = KeyArgs & { value?: string; file?: string; counter: boolean };
const set: CommandModule<object, SetArgs> = {
  command: 'set <key> [value]',
  describe: 'Set KEY to VALUE (UTF-8 bytes; - reads standard input, --file a file), or with --counter add VALUE to the counter KEY',
  builder: (y) =>
    keyPos(y.options(connectOptions))
      .positional('value', { type: 'string', describe: 'Value (UTF-8), - for standard input, or the increment with --counter' })
      .option('file', { type: 'string', describe: 'Read the value from this file (as bytes; up to 16 MiB)' })
      .option('counter', { type: 'boolean', default: false, describe: 'Treat KEY as a counter and add VALUE (an integer, |VALUE| <= 2^53-1) exactly once' }) as Argv<SetArgs>,
  handler: (args) =>
    withClient(args, async (c) => {
      const key = textKey(args.key);
      const value = await valueBytes(args.value, args.file);
      if (!args.counter) return c.set(key, value);
      await c.batch([{ op: 'incr', key, delta: parseIncrement(value.toString('utf8').trim()) }]);
    }),
};

type ScanArgs = ConnectArgs & { prefix: string; limit: number; json: boolean };
const scan: CommandModule<object, ScanArgs> = {
  command: 'scan <prefix>',
  describe: 'List keys under PREFIX in order, one "key<TAB>value" line each. PREFIX is ns:prefix (all keys of that routing prefix) or ns:prefix|rest-start',
  builder: (y) =>
    y
      .options(connectOptions)
      .positional('prefix', { type: 'string', demandOption: true, describe: 'ns:prefix or ns:prefix|rest-start' })
      .option('limit', { type: 'number', default: 1000, describe: 'Stop after this many entries (0 = no limit)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON lines {key, value}' }) as Argv<ScanArgs>,
  handler: (args) =>
    withClient(args, async (c) => {
      const p = parseTextKey(args.prefix);
      const prefix = args.prefix.includes('|') ? makeKey(p.ns, p.prefix, p.rest) : rangePrefix(p.ns, p.prefix);
      let n = 0;
      for await (const r of c.scan(prefix, { pageSize: Math.min(args.limit || 1000, 1000) })) {
        if (args.json) out(JSON.stringify({ key: formatKey(r.key), value: formatValue(r.value) }));
        else out(`${formatKey(r.key)}\t${formatValue(r.value)}`);
        if (args.limit && ++n >= args.limit) break;
      }
    }),
};

type StatsArgs = ConnectArgs & { json: boolean; all: boolean };
interface ForkStats {
  fork: string;
  epoch: number;
  keys: number;
  bytes: number;
  ops: number;
  opsPerSec: number;
  fenced: boolean;
}
interface Stats {
  id: string;
  endpoint: string;
  epoch: number;
  durability: string;
  uptimeMs: number;
  forks: ForkStats[];
  droppedReplies: number;
}

async function allStats(c: StoreClient, args: StatsArgs): Promise<Stats[]> {
  const eps = args.all ? c.ownerEndpoints() : [args.connect];
  return Promise.all(eps.map(async (ep) => (await c.call(ep, 'stats', {})) as Stats));
}

function printStats(all: Stats[]): void {
  for (const actor of all) {
    const total = actor.forks.reduce((sum, f) => ({ keys: sum.keys + f.keys, bytes: sum.bytes + f.bytes, ops: sum.ops + f.opsPerSec }), { keys: 0, bytes: 0, ops: 0 });
    out(`actor ${actor.id} ${actor.endpoint} epoch=${actor.epoch} durability=${actor.durability} forks=${actor.forks.length} keys=${total.keys} bytes=${total.bytes} ops/s=${total.ops} dropped-replies=${actor.droppedReplies}`);
    for (const f of actor.forks) if (f.keys || f.ops || f.fenced) out(`  fork=${f.fork} epoch=${f.epoch} keys=${f.keys} bytes=${f.bytes} ops=${f.ops} ops/s=${f.opsPerSec}${f.fenced ? ' fenced' : ''}`);
  }
}

const stats: CommandModule<object, StatsArgs> = {
  command: 'stats',
  describe: 'Per-fork keys, bytes and ops of the actor at --connect (or every owner with --all)',
  builder: (y) =>
    y
      .options(connectOptions)
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON' })
      .option('all', { type: 'boolean', default: false, describe: 'Ask every actor that owns forks' }) as Argv<StatsArgs>,
  handler: (args) =>
    withClient(args, async (c) => {
      const all = await allStats(c, args);
      if (args.json) out(JSON.stringify(all.length === 1 && !args.all ? all[0] : all));
      else printStats(all);
    }),
};

type StatusArgs = ConnectArgs & { json: boolean };
const status: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'Map epoch, members and forks per member with keys, bytes and ops/s',
  builder: (y) => y.options(connectOptions).option('json', { type: 'boolean', default: false, describe: 'Print JSON' }) as Argv<StatusArgs>,
  handler: (args) =>
    // Members with gossip state and incarnation come from the cluster layer (store/cluster/rebalance/plan.ts).
    withClient(args, (c) => printClusterStatus(c, args.connect, args.json)),
};

export const storeCommand: CommandModule = {
  command: 'store <command>',
  describe: 'Sharded trie store: start actors, read and write keys, inspect forks', // also in cli/main.ts, which lists it without loading the store
  builder: (y) => {
    let b = y
      .command(start as unknown as CommandModule)
      .command(stop as unknown as CommandModule)
      .command(keys as unknown as CommandModule)
      .command(status as unknown as CommandModule)
      .command(locate as unknown as CommandModule)
      .command(get as unknown as CommandModule)
      .command(set as unknown as CommandModule)
      .command(scan as unknown as CommandModule)
      .command(stats as unknown as CommandModule);
    for (const cmd of clusterCommands) b = b.command(cmd);
    b = b.command(importCommand as unknown as CommandModule);
    return b.demandCommand(1, 'Name a store command; see the list above.').epilog('Keys are written ns:prefix|rest: the namespace, the routing prefix (decides the fork) and the rest. A key without "ns:" is in namespace kv (user-42 is kv:user-42).');
  },
  handler: () => undefined,
};
