// What a store endpoint looks like, and which ones an actor may bind without authentication: only
// ones unreachable from other hosts.

/** How an endpoint is written, for error messages. */
export const ENDPOINT_FORM = 'tcp://HOST:PORT or ipc://PATH (e.g. tcp://127.0.0.1:5555)';

/**
 * Why `endpoint` is not one a store member can bind, connect or be reached at, or null if it is.
 * ZeroMQ's own answer to a malformed one is only "Invalid argument".
 */
export function endpointProblem(endpoint: string): string | null {
  if (/^tcp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.*-]+):(\d{1,5}|\*)$/.test(endpoint)) {
    const port = endpoint.slice(endpoint.lastIndexOf(':') + 1);
    return port === '*' || Number(port) <= 65535 ? null : `port ${port} is above 65535`;
  }
  if (/^(ipc|inproc):\/\/[^\0]+$/.test(endpoint)) return null;
  if (/^[A-Za-z0-9.-]+:\d+$/.test(endpoint) || /^\[[0-9A-Fa-f:.]+\]:\d+$/.test(endpoint)) return `it has no transport (did you mean tcp://${endpoint}?)`;
  return 'it is neither tcp:// nor ipc://';
}

/** Throw unless `endpoint` is well formed; `what` names where it came from (e.g. --connect). */
export function checkEndpoint(endpoint: string, what: string): void {
  const problem = endpointProblem(endpoint);
  if (problem) throw new Error(`${what} ${JSON.stringify(endpoint)} is not a ZeroMQ endpoint: ${problem}; write ${ENDPOINT_FORM}`);
}

/** True for ipc://, inproc:// and tcp:// endpoints on a loopback address. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  if (endpoint.startsWith('ipc://') || endpoint.startsWith('inproc://')) return true;
  const m = /^tcp:\/\/(.+):(\d+|\*)$/.exec(endpoint);
  if (!m) return false;
  let host = m[1]!;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** A member's CURVE key pair from the environment (DBSLM_STORE_CURVE_PUBLIC and _SECRET), or undefined without both. */
export function memberCurveKeys(env: NodeJS.ProcessEnv = process.env): { secretKey: string; publicKey: string } | undefined {
  const { DBSLM_STORE_CURVE_SECRET: secretKey, DBSLM_STORE_CURVE_PUBLIC: publicKey } = env;
  return secretKey && publicKey ? { secretKey, publicKey } : undefined;
}

/**
 * Throw unless binding `endpoint` is safe: loopback, or CURVE keys configured, or the operator
 * explicitly accepted an unauthenticated store with --insecure.
 */
export function checkBindAllowed(endpoint: string, opts: { insecure: boolean; curve: boolean }): void {
  checkEndpoint(endpoint, '--bind');
  if (isLoopbackEndpoint(endpoint) || opts.curve || opts.insecure) return;
  throw new Error(
    `refusing to bind ${endpoint}: it is not a loopback address and the store has no authentication. ` +
      'Bind tcp://127.0.0.1:PORT, or configure CURVE keys (DBSLM_STORE_CURVE_PUBLIC / DBSLM_STORE_CURVE_SECRET), ' +
      'or pass --insecure to accept an unauthenticated store reachable from the network.',
  );
}
