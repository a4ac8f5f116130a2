// Where stage actors and the coordinator listen. ipc: Unix sockets in the definition's
// transport.dir or a fresh temporary directory (removed after the run); tcp: the stage's host
// (127.0.0.1 for local stages) with port 0, so the actor binds any free port and reports the bound
// endpoint (socket.lastEndpoint) in its `ready` event. A restarted actor rebinds the endpoint it
// reported, so upstream sockets reconnect to it without being told.
//
// A definition may name a stage's endpoint; with several workers, worker i > 0 gets PORT+i (tcp,
// unless the port is 0) or PATH.i (ipc), since each worker binds its own.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Transport {
  kind: 'ipc' | 'tcp';
  /** ipc: the socket directory (created if missing); null: a fresh temporary one. */
  dir: string | null;
}

export class Endpoints {
  readonly dir: string | null;
  private readonly made: boolean;

  constructor(private readonly transport: Transport) {
    if (transport.kind === 'tcp') {
      this.dir = null;
      this.made = false;
    } else if (transport.dir) {
      fs.mkdirSync(transport.dir, { recursive: true });
      this.dir = transport.dir;
      this.made = false;
    } else {
      // Short: a Unix socket path has a limit of about 107 bytes.
      this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dbslm-run-'));
      this.made = true;
    }
  }

  /** The coordinator's control endpoint (its Pull for actor events). */
  control(host = '127.0.0.1'): string {
    return this.transport.kind === 'tcp' ? `tcp://${host}:0` : `ipc://${path.join(this.dir!, 'control.sock')}`;
  }

  /** Worker `worker` of `stage`: its declared endpoint (adjusted per worker), or one made here. */
  stage(stage: string, worker: number, declared: string | null, host = '127.0.0.1'): string {
    if (declared) return worker === 0 ? declared : perWorker(declared, worker);
    return this.transport.kind === 'tcp' ? `tcp://${host}:0` : `ipc://${path.join(this.dir!, `${stage}-${worker}.sock`)}`;
  }

  /**
   * Where worker `worker` of `stage` binds its tap publisher (`pipeline tap`). It is assigned here,
   * not reported by the actor, so it is known (and recorded for tap) before the actors start and a
   * restarted actor binds the same one. tcp: on the stage's host, a port found free now on this
   * machine (the OS picks it; another process, or on another host anything, could take it before
   * the actor binds, then that worker has no tap and says so).
   */
  async tap(stage: string, worker: number, host = '127.0.0.1'): Promise<string> {
    if (this.transport.kind === 'ipc') return `ipc://${path.join(this.dir!, `tap-${stage}-${worker}.sock`)}`;
    return `tcp://${host}:${await freePort()}`;
  }

  /** Removes the temporary socket directory this made (never a directory the definition named). */
  cleanup(): void {
    if (this.made && this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function perWorker(endpoint: string, worker: number): string {
  const tcp = /^tcp:\/\/(.+):(\d+|\*)$/.exec(endpoint);
  if (tcp) return tcp[2] === '0' || tcp[2] === '*' ? endpoint : `tcp://${tcp[1]}:${Number(tcp[2]) + worker}`;
  return `${endpoint}.${worker}`;
}

/** A loopback port free at the moment of asking. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
