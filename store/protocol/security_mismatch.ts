// A store connection whose ZeroMQ handshake fails because the two ends do not share one security
// setup: one speaks CURVE and the other plain, or both CURVE with different key pairs. ZeroMQ keeps
// reconnecting and never says why, so a client or a joining member would only see its requests
// time out; these name the cause and the fix instead. A cluster that mixes CURVE and plain members
// is refused this way at both ends (issue 10), and so is a member holding another key pair.
import type zmq from 'zeromq';

export type SecurityMismatch = 'mechanism' | 'key';

const KEYS = 'DBSLM_STORE_CURVE_PUBLIC and DBSLM_STORE_CURVE_SECRET';

export class SecurityMismatchError extends Error {
  constructor(
    readonly endpoint: string,
    readonly mismatch: SecurityMismatch,
    /** Whether this end uses CURVE. */
    readonly ownCurve: boolean,
  ) {
    super(
      mismatch === 'key'
        ? `${endpoint} refused the CURVE handshake: the server key this process uses (DBSLM_STORE_CURVE_PUBLIC) is not the key pair ${endpoint} serves, or ${endpoint} does not speak CURVE at all; members share one key pair, clients need its public key, and a cluster cannot mix CURVE and plain members`
        : ownCurve
          ? `${endpoint} does not speak CURVE and this process does: a cluster cannot mix CURVE and plain members; start every member with the same key pair (${KEYS}), or none`
          : `${endpoint} speaks CURVE and this process has no key: set DBSLM_STORE_CURVE_PUBLIC to the cluster's public key (members: ${KEYS}); a cluster cannot mix CURVE and plain members`,
    );
    this.name = 'SecurityMismatchError';
  }
}

/** Handshakes in a row that fail without saying why before the channel is taken for mismatched. */
const SILENT_FAILURES = 5;

/**
 * The client end: reports a mismatch found by a channel's handshakes. A mechanism mismatch is one
 * handshake's word when this end reads the other's greeting first; when the other end reads first
 * and hangs up, this end sees only a broken pipe, as it does when the key pairs differ (the server
 * cannot decrypt) and as it would if the server died mid-handshake. So a few such failures in a
 * row, with no success in between, count too: on a plain channel they can only mean a CURVE
 * server; on a CURVE channel, another key pair or a plain server (the message names both).
 */
export function watchHandshakes(socket: zmq.Dealer, endpoint: string, ownCurve: boolean, onMismatch: (err: SecurityMismatchError | null) => void): void {
  let failures = 0;
  socket.events.on('handshake', () => {
    failures = 0;
    onMismatch(null);
  });
  const failed = (code: string | undefined) => {
    if (code === 'ERR_ZMTP_MECHANISM_MISMATCH') return onMismatch(new SecurityMismatchError(endpoint, 'mechanism', ownCurve));
    if (++failures >= SILENT_FAILURES) onMismatch(new SecurityMismatchError(endpoint, ownCurve ? 'key' : 'mechanism', ownCurve));
  };
  socket.events.on('handshake:error:protocol', (e) => failed(e.error.code));
  socket.events.on('handshake:error:auth', () => failed(undefined));
  socket.events.on('handshake:error:other', (e) => failed(e.error.code));
}

/** How often an actor reports refused handshakes of one kind (a misconfigured peer retries every 100 ms). */
const REPORT_EVERY_MS = 60_000;

/** The server end: an actor says, now and then, that it refuses connections and why. */
export function reportRefusedHandshakes(socket: zmq.Router, ownCurve: boolean, report: (line: string) => void): void {
  const last = new Map<string, number>();
  const refused = (code: string | undefined) => {
    const kind = code === 'ERR_ZMTP_MECHANISM_MISMATCH' ? 'mechanism' : code === 'ERR_ZMTP_CRYPTOGRAPHIC' ? 'key' : 'cut';
    const now = Date.now();
    if (now - (last.get(kind) ?? -Infinity) < REPORT_EVERY_MS) return;
    last.set(kind, now);
    report(
      kind === 'key'
        ? 'refused a connection holding another CURVE key pair (a member or client with the wrong DBSLM_STORE_CURVE_PUBLIC)'
        : kind === 'cut'
          ? // The other end found the mismatch first and hung up (or died mid-handshake).
            `a connection's handshake was cut off by the other end (a member or client with another security setup than this member's ${ownCurve ? 'CURVE key pair' : 'plain one'}, or a process that died)`
          : ownCurve
          ? 'refused a plain connection: this member speaks CURVE (a member or client without DBSLM_STORE_CURVE_PUBLIC)'
          : `refused a CURVE connection: this member speaks plain (a member or client with ${KEYS} set, where this member has none)`,
    );
  };
  socket.events.on('handshake:error:protocol', (e) => refused(e.error.code));
  socket.events.on('handshake:error:other', () => refused(undefined));
}
