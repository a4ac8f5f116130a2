// Is a store actor answering at an endpoint? One `ping` over a ZeroMQ DEALER, bounded by a timeout,
// so checking an endpoint nothing listens on fails in that time instead of hanging (ZeroMQ connects
// lazily: a connect to a dead port succeeds, only the reply never comes).

/** How long a ping waits by default: a live actor on a loaded machine answers in milliseconds. */
export const DEFAULT_PING_TIMEOUT_MS = 2000;

export type PingResult = { ok: true; actorId: string } | { ok: false; reason: string };

export async function pingStoreActor(endpoint: string, timeoutMs: number): Promise<PingResult> {
  // Loaded here: ZeroMQ costs start-up time that validating a file without store.join should not pay.
  const { Connection, TimeoutError } = await import('../../store/client/connection.js');
  const { STORE_COMMANDS } = await import('../../schemas/store.js');
  let conn: InstanceType<typeof Connection> | undefined;
  try {
    conn = new Connection(endpoint);
    const reply = await conn.request('ping', STORE_COMMANDS.ping.encodeRequest({}), timeoutMs);
    if (reply.code !== 'OK') return { ok: false, reason: `the store actor at ${endpoint} answered ping with ${reply.code}: ${reply.message}` };
    return { ok: true, actorId: STORE_COMMANDS.ping.decodeReply(reply.body).id };
  } catch (e) {
    if (e instanceof TimeoutError) {
      return { ok: false, reason: `no store actor answered a ping at ${endpoint} within ${timeoutMs} ms (is it running, and is the address right?)` };
    }
    return { ok: false, reason: `cannot reach a store actor at ${endpoint}: ${(e as Error).message}` };
  } finally {
    conn?.close();
  }
}
