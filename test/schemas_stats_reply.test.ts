// The stats reply grew a field (droppedReplies): a reply from an actor older than the field still
// decodes, the field taking its default.
import test from 'ava';
import { BadBody } from '../schemas/command.js';
import { STORE_COMMANDS } from '../schemas/store.js';

const stats = { id: 'a', endpoint: 'tcp://127.0.0.1:1', epoch: 1, durability: 'normal', uptimeMs: 5, forks: [{ fork: '00', epoch: 1, keys: 2, bytes: 3, ops: 4, opsPerSec: 0.5, fenced: false }] };

test('a stats reply without droppedReplies decodes with droppedReplies 0; garbage still does not', (t) => {
  const current = STORE_COMMANDS.stats.encodeReply({ ...stats, droppedReplies: 300 });
  t.is(STORE_COMMANDS.stats.decodeReply(current).droppedReplies, 300);
  const older = current.subarray(0, current.length - 2); // the same record before the field was added
  t.like(STORE_COMMANDS.stats.decodeReply(older), { ...stats, droppedReplies: 0 });
  t.throws(() => STORE_COMMANDS.stats.decodeReply(Buffer.from('0102', 'hex')), { instanceOf: BadBody });
});
