// Placeholder owned by the store work (issue 3): replaced by the real `dbslm store ...` commands.
import type { CommandModule } from 'yargs';

export const storeCommand: CommandModule = {
  command: 'store',
  describe: 'Sharded trie store actors (not built yet)',
  handler: () => {
    process.stderr.write('dbslm store: not built yet\n');
    process.exitCode = 2;
  },
};
