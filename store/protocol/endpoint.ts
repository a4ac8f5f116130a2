// Which endpoints an actor may bind without authentication: only ones unreachable from other hosts.

/** True for ipc://, inproc:// and tcp:// endpoints on a loopback address. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  if (endpoint.startsWith('ipc://') || endpoint.startsWith('inproc://')) return true;
  const m = /^tcp:\/\/(.+):(\d+|\*)$/.exec(endpoint);
  if (!m) return false;
  let host = m[1]!;
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Throw unless binding `endpoint` is safe: loopback, or CURVE keys configured, or the operator
 * explicitly accepted an unauthenticated store with --insecure.
 */
export function checkBindAllowed(endpoint: string, opts: { insecure: boolean; curve: boolean }): void {
  if (!/^(tcp|ipc|inproc):\/\//.test(endpoint)) throw new Error(`bind endpoint ${JSON.stringify(endpoint)} is not a ZeroMQ endpoint; use e.g. tcp://127.0.0.1:5555`);
  if (isLoopbackEndpoint(endpoint) || opts.curve || opts.insecure) return;
  throw new Error(
    `refusing to bind ${endpoint}: it is not a loopback address and the store has no authentication. ` +
      'Bind tcp://127.0.0.1:PORT, or configure CURVE keys (DBSLM_STORE_CURVE_PUBLIC / DBSLM_STORE_CURVE_SECRET), ' +
      'or pass --insecure to accept an unauthenticated store reachable from the network.',
  );
}
