// Cluster subcommands of `dbslm store` (move, takeover, forget, rebalance): owned by the cluster
// layer, which adds its yargs CommandModules to this list; store.ts beside this file registers
// whatever is here.
import type { Argv, CommandModule } from 'yargs';
import { CLUSTER_COMMANDS } from '../../../schemas/cluster.js';
import { MOVE_COMMANDS } from '../../../schemas/moves.js';
import type { StoreClient } from '../../../store/client/client.js';
import { withClient } from './connect.js';
import { connectOptions, type ConnectArgs } from '../../options.js';
import { planFromView, type Move } from '../../../store/cluster/rebalance/plan.js';
import { deadOwnerNotes, formatStatus, statusJson } from '../../../store/cluster/rebalance/status.js';
import { clusterView } from '../../../store/cluster/rebalance/view.js';

const out = (line: string) => process.stdout.write(line + '\n');


interface MoveResult { fork: string; from: string; to: string; epoch: number; keys: number; rounds: number; ms: number }

/** Asks the member at `endpoint` to move a fork (it forwards to the owner); throws with the actor's message. */
export async function requestMove(c: StoreClient, endpoint: string, fork: string, to: string, force = false, from = ''): Promise<MoveResult> {
  const rep = await c.raw(endpoint, 'move', MOVE_COMMANDS.move.encodeRequest({ fork, to, force, hops: 0, from }), 300000);
  if (rep.code !== 'OK') throw new Error(`move of fork ${fork}${from ? ` from ${from}` : ''} to ${to}: ${rep.code}: ${rep.message}`);
  return MOVE_COMMANDS.move.decodeReply(rep.body) as MoveResult;
}

type MoveArgs = ConnectArgs & { fork: string; to: string; force: boolean; from?: string };
const move: CommandModule<object, MoveArgs> = {
  command: 'move',
  describe:
    'Move a fork live to another member: snapshot, tail catch-up, fence, epoch cut-over. Onto an in-sync replica of the fork it is a handover ' +
    '(the replica already holds the rows and becomes the owner; the old owner becomes its replica). With --from REPLICA, moves that replica instead',
  builder: (y) =>
    y
      .options(connectOptions)
      .option('fork', { type: 'string', demandOption: true, describe: 'Fork id (hex routing-byte prefix, e.g. 3f; see `store status`)' })
      .option('to', { type: 'string', demandOption: true, describe: 'Id of the member that takes the fork (or, with --from, the replica)' })
      .option('from', {
        type: 'string',
        describe: 'Move the replica of the fork held by this member (see `store status`): the owner fills --to by snapshot and tail, then lets this one go',
      })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'Take over the fork of a DEAD owner without its data (the old rows are unreachable); refused while the owner is alive',
      }) as Argv<MoveArgs>,
  handler: (args) =>
    withClient(args, async (c) => {
      const r = await requestMove(c, args.connect, args.fork, args.to, args.force, args.from ?? '');
      out(`moved ${args.from ? 'replica of ' : ''}fork=${r.fork} from=${r.from} to=${r.to} epoch=${r.epoch} keys=${r.keys} rounds=${r.rounds} ms=${r.ms}`);
    }),
};

/** A takeover waits for a quorum round and one lease period; a member in trouble is reported per fork. */
const TAKEOVER_TIMEOUT_MS = 120000;

type TakeoverArgs = ConnectArgs & { member: string; to: string[] };
const takeover: CommandModule<object, TakeoverArgs> = {
  command: 'takeover <member>',
  describe: 'Take every fork of a DEAD member over at once, spread over the live members (its rows are lost: the forks restart empty)',
  builder: (y) =>
    y
      .options(connectOptions)
      .positional('member', { type: 'string', demandOption: true, describe: 'Id of the dead member' })
      .option('to', { type: 'string', array: true, default: [] as string[], describe: 'Give the forks to these members only (repeatable); default: every alive member' }) as unknown as Argv<TakeoverArgs>,
  handler: (args) =>
    withClient(args, async (c) => {
      const rep = await c.raw(args.connect, 'takeover', MOVE_COMMANDS.takeover.encodeRequest({ member: args.member, to: args.to }), TAKEOVER_TIMEOUT_MS);
      if (rep.code !== 'OK') throw new Error(`takeover of ${args.member}: ${rep.code}: ${rep.message}`);
      const r = MOVE_COMMANDS.takeover.decodeReply(rep.body);
      const perMember = new Map<string, number>();
      for (const f of r.results) {
        if (f.code === 'OK') {
          out(`took fork=${f.fork} from=${f.from} to=${f.to} epoch=${f.epoch}`);
          perMember.set(f.to, (perMember.get(f.to) ?? 0) + 1);
        } else out(`FAILED fork=${f.fork} from=${f.from} to=${f.to}: ${f.code}: ${f.message}`);
      }
      if (!r.results.length) {
        out(`member ${r.member} owns no forks; nothing to take over`);
        return;
      }
      const taken = [...perMember.values()].reduce((a, b) => a + b, 0);
      const shares = [...perMember].sort(([x], [y]) => (x < y ? -1 : 1)).map(([id, n]) => `${id}=${n}`).join(' ');
      out(`took over ${taken} of ${r.results.length} forks of ${r.member}: ${shares || 'none'} in ${r.ms} ms`);
      if (taken < r.results.length) process.exitCode = 1;
    }),
};

type ForgetArgs = ConnectArgs & { member: string; force: boolean };
const forget: CommandModule<object, ForgetArgs> = {
  command: 'forget <member>',
  describe: 'Remove a DEAD member for good, so it no longer counts towards the quorum; it can never come back under its id',
  builder: (y) =>
    y
      .options(connectOptions)
      .positional('member', { type: 'string', demandOption: true, describe: 'Id of the dead member' })
      .option('force', {
        type: 'boolean',
        default: false,
        describe: 'Forget it even though it still owns forks (needed when the live members are too few for a quorum to take them over); take them over after',
      }) as unknown as Argv<ForgetArgs>,
  handler: (args) =>
    withClient(args, async (c) => {
      const rep = await c.raw(args.connect, 'forget', CLUSTER_COMMANDS.forget.encodeRequest({ member: args.member, force: args.force, relay: true }));
      if (rep.code !== 'OK') throw new Error(`forget ${args.member}: ${rep.code}: ${rep.message}`);
      const r = CLUSTER_COMMANDS.forget.decodeReply(rep.body);
      out(`forgot ${r.member} (at ${r.forgottenBy.join(', ')}); the quorum is now ${r.quorum} of ${r.members} members`);
    }),
};

type RebalanceArgs = ConnectArgs & { by: 'bytes' | 'ops'; apply: boolean; tolerance: number; json: boolean };
const rebalance: CommandModule<object, RebalanceArgs> = {
  command: 'rebalance',
  describe:
    'Print a plan of fork moves that evens out the members (greedy, heaviest to lightest); --apply runs it. With replicas it plans ' +
    'handovers to in-sync replicas first (owners), then replica moves (copies); never two copies of a fork on one member',
  builder: (y) =>
    y
      .options(connectOptions)
      .option('by', { choices: ['bytes', 'ops'] as const, default: 'bytes' as const, describe: 'Balance stored bytes or recent ops/s (fork counts when the store is empty)' })
      .option('apply', { type: 'boolean', default: false, describe: 'Execute the plan: one live move after the other, with progress' })
      .option('tolerance', { type: 'number', default: 0.1, describe: 'Stop once the heaviest member is within this fraction of the mean' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the plan as JSON' }) as Argv<RebalanceArgs>,
  handler: (args) =>
    withClient(args, async (c) => {
      const view = await clusterView(c, args.connect);
      const plan = planFromView(view, args.by, args.tolerance);
      if (args.json) out(JSON.stringify(plan));
      else {
        const replicated = view.forks.some((f) => f.replicas?.length);
        const copies = replicated ? ' (copies: owned and replicated)' : '';
        out(`load by ${args.by} before: ${fmtLoads(plan.before)}${copies}`);
        if (replicated) out(`owned by ${args.by} before: ${fmtLoads(plan.owned.before)}`);
        for (const m of plan.moves) out(`move fork=${m.fork} from=${m.from} to=${m.to} ${args.by}=${m.weight}${m.kind === 'move' ? '' : ` (${m.kind})`}`);
        out(`load by ${args.by} after:  ${fmtLoads(plan.after)} (${plan.moves.length} moves)`);
        if (replicated) out(`owned by ${args.by} after:  ${fmtLoads(plan.owned.after)}`);
        if (view.unreachable.length) out(`not counted (unreachable): ${view.unreachable.join(', ')}`);
        for (const note of deadOwnerNotes(view)) out(note);
      }
      if (!args.apply) return;
      await applyPlan(c, args.connect, plan.moves, (line) => out(line));
    }),
};

/** Runs the moves one after the other; a failed move is reported and the rest go on. */
export async function applyPlan(c: StoreClient, endpoint: string, moves: Move[], progress: (line: string) => void): Promise<number> {
  let failed = 0;
  for (let i = 0; i < moves.length; i++) {
    const m = moves[i]!;
    try {
      // A handover is a plain move: the owner sees that the target is an in-sync replica.
      const r = await requestMove(c, endpoint, m.fork, m.to, false, m.kind === 'replica' ? m.from : '');
      progress(`[${i + 1}/${moves.length}] fork=${m.fork} ${r.from} -> ${r.to} epoch=${r.epoch} keys=${r.keys} ms=${r.ms}${m.kind === 'move' ? '' : ` (${m.kind})`}`);
    } catch (err) {
      failed++;
      progress(`[${i + 1}/${moves.length}] fork=${m.fork} ${m.from} -> ${m.to}${m.kind === 'move' ? '' : ` (${m.kind})`} FAILED: ${(err as Error).message}`);
    }
  }
  if (failed) process.exitCode = 1;
  return failed;
}

function fmtLoads(l: Record<string, number>): string {
  return Object.entries(l).map(([k, v]) => `${k}=${v}`).join(' ');
}

/** Cluster part of `dbslm store status`: members with state and incarnation, forks per member, map epoch. */
export async function printClusterStatus(c: StoreClient, endpoint: string, json: boolean): Promise<void> {
  const view = await clusterView(c, endpoint);
  if (json) out(JSON.stringify(statusJson(view)));
  else for (const line of formatStatus(view)) out(line);
}

export const clusterCommands: CommandModule[] = [move, takeover, forget, rebalance] as unknown as CommandModule[];
