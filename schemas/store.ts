// Every command a store actor serves by itself, by name. The cluster layer adds its own
// (schemas/cluster.ts, schemas/moves.ts) through the actor's command hook.
import { ADMIN_COMMANDS } from './admin.js';
import { DATA_COMMANDS } from './data.js';

export const STORE_COMMANDS = { ...DATA_COMMANDS, ...ADMIN_COMMANDS };
export type StoreCommandName = keyof typeof STORE_COMMANDS;
