// Cluster subcommands of `dbslm store` (move, rebalance): owned by the cluster layer, which adds
// its yargs CommandModules to this list; store/cli.ts registers whatever is here.
import type { CommandModule } from 'yargs';

export const clusterCommands: CommandModule[] = [];
