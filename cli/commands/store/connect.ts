// What every `dbslm store` subcommand that talks to a running store shares besides its options
// (--connect and --timeout, in cli/options.ts): a connected client whose errors become one line.
import { StoreClient } from '../../../store/client/client.js';
import { checkEndpoint } from '../../../store/protocol/endpoint.js';
import type { ConnectArgs } from '../../options.js';

/** Run `fn` with a connected client; errors become one line on stderr and exit code 1. */
export async function withClient(args: ConnectArgs, fn: (c: StoreClient) => Promise<void>): Promise<void> {
  let c: StoreClient | null = null;
  try {
    checkEndpoint(args.connect, '--connect'); // ZeroMQ itself only says "Invalid argument"
    c = await StoreClient.connect(args.connect, { timeoutMs: args.timeout, retries: 1 });
    await fn(c);
  } catch (err) {
    process.stderr.write(`dbslm store: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    c?.close();
  }
}
