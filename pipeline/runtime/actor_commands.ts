// The coordinator's command sockets: one Push per actor, connected to that actor's input endpoint
// only, so a ReadTask, a credit or `end` reaches exactly the actor meant (a stage's upstream Push
// round-robins over its workers instead). A restarted actor gets a fresh socket: what was queued
// for the dead one is dropped rather than delivered to its successor.
import zmq from 'zeromq';
import { SerialSender } from './actor_queues.js';

export class ActorCommands {
  private readonly sockets = new Map<string, { socket: zmq.Push; sender: SerialSender }>();

  /** Sends `msg` to the actor at `endpoint` (known by `key`, `stage/worker`). */
  send(key: string, endpoint: string, msg: Buffer): Promise<void> {
    let c = this.sockets.get(key);
    if (!c) {
      const socket = new zmq.Push({ linger: 0, sendHighWaterMark: 10000 });
      socket.connect(endpoint);
      c = { socket, sender: new SerialSender((m) => socket.send(m)) };
      this.sockets.set(key, c);
    }
    return c.sender.send(msg);
  }

  drop(key: string): void {
    this.sockets.get(key)?.socket.close();
    this.sockets.delete(key);
  }

  closeAll(): void {
    for (const c of this.sockets.values()) c.socket.close();
    this.sockets.clear();
  }
}
