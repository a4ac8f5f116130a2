// What every `dbslm store` subcommand that talks to a running store shares: the --connect and
// --timeout options, and running a body with a connected client whose errors become one line.
import { StoreClient } from '../../../store/client/client.js';

export const connectOpt = {
  connect: { type: 'string', demandOption: true, describe: 'Endpoint of any store member, e.g. tcp://127.0.0.1:5555' },
  timeout: { type: 'number', default: 10000, describe: 'Reply timeout in ms for quick requests (a move may take longer)' },
} as const;

export type ConnectArgs = { connect: string; timeout: number };

/** Run `fn` with a connected client; errors become one line on stderr and exit code 1. */
export async function withClient(args: ConnectArgs, fn: (c: StoreClient) => Promise<void>): Promise<void> {
  let c: StoreClient | null = null;
  try {
    c = await StoreClient.connect(args.connect, { timeoutMs: args.timeout, retries: 1 });
    await fn(c);
  } catch (err) {
    process.stderr.write(`dbslm store: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    c?.close();
  }
}
