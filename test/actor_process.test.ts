// The actor launcher (cli/io/actor_process.ts) that tests, benches and the pipeline start local
// store actors with: both entry points come up and serve, stop is graceful, kill ends even a
// stopped actor, and an actor that cannot start is reported with what it printed.
import test from 'ava';
import { ActorStartError, launchActor } from '../cli/io/actor_process.js';
import { StoreClient } from '../store/client/client.js';

for (const throughCli of [false, true]) {
  test(`an actor started ${throughCli ? 'by dbslm store start' : 'from its main module'} serves at the endpoint it printed and stops gracefully`, async (t) => {
    const actor = await launchActor({ id: 'launched', throughCli });
    t.teardown(() => actor.kill());
    t.regex(actor.endpoint, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    const client = await StoreClient.connect(actor.endpoint, { timeoutMs: 5000 });
    t.teardown(() => client.close());
    const stats = (await client.call(actor.endpoint, 'stats', {})) as { id: string };
    t.is(stats.id, 'launched');
    await actor.stop();
    t.is(actor.proc.exitCode, 0, 'SIGTERM is a clean stop');
  });
}

test('kill ends an actor even while it is stopped (SIGSTOP)', async (t) => {
  const actor = await launchActor({ id: 'frozen' });
  actor.proc.kill('SIGSTOP');
  await actor.kill();
  t.is(actor.proc.signalCode, 'SIGKILL');
});

test('an actor that exits before listening rejects with its exit code and what it printed', async (t) => {
  // A non-loopback bind without authentication is refused at start-up (exit code 2).
  const err = await t.throwsAsync(launchActor({ id: 'refused', bind: 'tcp://10.11.12.13:5555' }), { instanceOf: ActorStartError });
  t.is(err!.actorId, 'refused');
  t.is(err!.failure, 'exited');
  t.is(err!.exit, 2);
  t.true(err!.output.includes('tcp://10.11.12.13:5555'), `the actor's own explanation is kept: ${err!.output}`);
});
