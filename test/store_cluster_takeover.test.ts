// Acceptance: a dead member's forks and its seat in the quorum, with real actor processes and the real CLI.
// `dbslm store takeover` moves every fork of a dead member to the live ones in one quorum round and one lease wait;
// `dbslm store forget` removes a dead member for good so the quorum shrinks (a 2-member cluster that lost one member
// writes again); a forgotten member that comes back is refused.
import test from 'ava';
import { STORE_COMMANDS } from '../schemas/store.js';
import { StoreClient } from '../store/client/client.js';
import { ownershipConflicts } from '../store/map/ownership_history.js';
import { makeKey } from '../store/protocol/keys.js';
import { dbslmStore, history, members, move, sleep, startActor, stateOf, until, type ActorProc } from './helpers/cluster_procs.js';

const DEAD_AFTER = 1500;

/** One key per fork of `forks` (by trying contexts until each fork has one). */
function keysIn(client: StoreClient, forks: Set<string>): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (let i = 0; keys.size < forks.size && i < 100000; i++) {
    const k = makeKey('to', Buffer.from(`ctx${i}`), Buffer.from('k'));
    const fork = client.map.lookup(k).fork;
    if (forks.has(fork) && !keys.has(fork)) keys.set(fork, k);
  }
  return keys;
}

async function allAlive(client: StoreClient, actors: ActorProc[]): Promise<void> {
  await until('every member sees every other alive', async () => {
    for (const x of actors) {
      const v = await members(client, x.ep);
      if (actors.some((y) => stateOf(v, y.id) !== 'alive') || !v.lease) return false;
    }
    return true;
  }, 10000);
}

test('takeover gives every fork of a dead member to the live ones at once, one line per fork and a summary', async (t) => {
  // c starts alone and owns all 256 forks; a and b join it.
  const c = await startActor(t, 'c', { deadAfterMs: DEAD_AFTER });
  const a = await startActor(t, 'a', { join: [c.ep], deadAfterMs: DEAD_AFTER });
  const b = await startActor(t, 'b', { join: [c.ep], deadAfterMs: DEAD_AFTER });
  const client = await StoreClient.connect(a.ep, { retries: 20 });
  t.teardown(() => client.close());
  await allAlive(client, [a, b, c]);

  c.proc.kill('SIGKILL');
  await until('a and b mark c dead', async () => stateOf(await members(client, a.ep), 'c') === 'dead' && stateOf(await members(client, b.ep), 'c') === 'dead', DEAD_AFTER * 4);
  const run = await dbslmStore(['takeover', 'c', '--connect', a.ep]);
  t.is(run.code, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  t.log(`${lines[lines.length - 1]} (${Math.round(run.ms)} ms with the CLI process)`);
  const forkLines = lines.filter((l) => l.startsWith('took fork='));
  t.is(forkLines.length, 256, run.stdout);
  for (const l of forkLines) t.regex(l, /^took fork=[0-9a-f]{2} from=c to=(a|b) epoch=\d+$/);
  t.regex(lines[lines.length - 1]!, /^took over 256 of 256 forks of c: a=\d+ b=\d+ in \d+ ms$/);
  t.true(run.ms < 15000, `takeover took ${run.ms} ms`);

  const view = await members(client, a.ep);
  const owners = new Map<string, number>();
  for (const f of view.forks) owners.set(f.owner, (owners.get(f.owner) ?? 0) + 1);
  t.is(owners.get('c'), undefined);
  t.is(owners.get('a'), 128, 'spread evenly over the live members');
  t.is(owners.get('b'), 128);

  await client.refreshMap();
  const keys = keysIn(client, new Set(client.map.entries.keys()));
  await Promise.all([...keys.values()].map((k) => client.set(k, Buffer.from('after'))));
  t.deepEqual(new Set((await client.multiGet([...keys.values()])).map((v) => v?.toString())), new Set(['after']));
  t.deepEqual(ownershipConflicts(await Promise.all([a, b].map((x) => history(client, x.ep)))), []);
});

test('a 2-member cluster that lost a member says what to do; forget --force and takeover bring writes back, also after a restart', async (t) => {
  const a = await startActor(t, 'a', { deadAfterMs: DEAD_AFTER });
  const c = await startActor(t, 'c', { join: [a.ep], deadAfterMs: DEAD_AFTER });
  const client = await StoreClient.connect(a.ep, { retries: 3 });
  t.teardown(() => client.close());
  await allAlive(client, [a, c]);
  for (const fork of ['00', '01', '02']) t.is((await move(client, a.ep, fork, 'c')).code, 'OK');
  await client.refreshMap();
  const key = keysIn(client, new Set(['80'])).get('80')!;

  c.proc.kill('SIGKILL');
  await until('a marks c dead and its lease lapses', async () => {
    const v = await members(client, a.ep);
    return stateOf(v, 'c') === 'dead' && !v.lease;
  }, DEAD_AFTER * 4);
  const refused = await client.raw(a.ep, 'set', STORE_COMMANDS.set.encodeRequest({ entries: [{ key, value: Buffer.from('x') }] }));
  t.is(refused.code, 'FENCED');
  t.regex(refused.message, /dbslm store forget c /, 'the refusal names the command that ends the wait');

  const owns = await dbslmStore(['forget', 'c', '--connect', a.ep]);
  t.is(owns.code, 1);
  t.regex(owns.stderr, /BAD_REQUEST/);
  t.regex(owns.stderr, /--force/, 'it says how to forget a member whose forks cannot be taken over without a quorum');
  const forgot = await dbslmStore(['forget', 'c', '--force', '--connect', a.ep]);
  t.is(forgot.code, 0, forgot.stderr);
  t.is(stateOf(await members(client, a.ep), 'c'), 'left');
  await until('a holds its lease alone', async () => (await members(client, a.ep)).lease, 3000);
  await client.set(key, Buffer.from('after forget'));

  const took = await dbslmStore(['takeover', 'c', '--connect', a.ep]);
  t.is(took.code, 0, took.stderr);
  t.is(took.stdout.split('\n').filter((l) => l.startsWith('took fork=')).length, 3);
  await client.refreshMap();
  const lost = keysIn(client, new Set(['00', '01', '02']));
  for (const k of lost.values()) await client.set(k, Buffer.from('taken over'));

  // Restarted on its data dir, a remembers that c is forgotten: alone, it holds its lease and serves.
  await a.proc.kill('SIGKILL');
  await sleep(100);
  const a2 = await startActor(t, 'a', { dir: a.dir, deadAfterMs: DEAD_AFTER });
  const again = await StoreClient.connect(a2.ep, { retries: 10 });
  t.teardown(() => again.close());
  t.is(stateOf(await members(again, a2.ep), 'c'), 'left');
  await until('the restarted a holds its lease', async () => (await members(again, a2.ep)).lease, 3000);
  t.is((await again.get(key))?.toString(), 'after forget');
  await again.set(key, Buffer.from('after restart'));
});

test('only a dead member can be forgotten, and a forgotten member that comes back is refused', async (t) => {
  const a = await startActor(t, 'a', { deadAfterMs: DEAD_AFTER });
  const b = await startActor(t, 'b', { join: [a.ep], deadAfterMs: DEAD_AFTER });
  const c = await startActor(t, 'c', { join: [a.ep], deadAfterMs: DEAD_AFTER });
  const client = await StoreClient.connect(a.ep, { retries: 10 });
  t.teardown(() => client.close());
  await allAlive(client, [a, b, c]);
  const key = makeKey('fg', Buffer.from('forgotten'));
  const fork = client.map.lookup(key).fork;
  t.is((await move(client, a.ep, fork, 'c')).code, 'OK');
  await client.refreshMap();
  await client.set(key, Buffer.from('at c'));

  const alive = await dbslmStore(['forget', 'c', '--force', '--connect', a.ep]);
  t.is(alive.code, 1);
  t.regex(alive.stderr, /BAD_REQUEST/);
  t.is(stateOf(await members(client, a.ep), 'c'), 'alive');

  c.proc.kill('SIGSTOP');
  await until('a and b mark c dead', async () => stateOf(await members(client, a.ep), 'c') === 'dead' && stateOf(await members(client, b.ep), 'c') === 'dead', DEAD_AFTER * 4);
  t.is((await dbslmStore(['takeover', 'c', '--connect', b.ep])).code, 0);
  const forgot = await dbslmStore(['forget', 'c', '--connect', b.ep]);
  t.is(forgot.code, 0, forgot.stderr);
  await until('a and b hold c as left', async () => stateOf(await members(client, a.ep), 'c') === 'left' && stateOf(await members(client, b.ep), 'c') === 'left', 3000);

  c.proc.kill('SIGCONT');
  await sleep(DEAD_AFTER * 2);
  for (const x of [a, b]) t.is(stateOf(await members(client, x.ep), 'c'), 'left', `${x.id} took c back`);
  const atC = await members(client, c.ep);
  t.false(atC.lease, 'the forgotten member regained a lease');
  const read = await client.raw(c.ep, 'get', STORE_COMMANDS.get.encodeRequest({ keys: [key] }));
  t.is(read.code, 'FENCED');
  t.regex(read.message, /forgotten/);
  await client.refreshMap();
  t.not(client.map.get(fork)?.owner, 'c');
  await client.set(key, Buffer.from('served by a live member'));
});
