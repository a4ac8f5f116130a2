// A network of its own for one fault run (issue 10's partitions): each actor runs in a network namespace of
// its own, linked by a veth pair to a bridge in the test's namespace, which holds the clients' address. Taking an
// actor's link down cuts it off from every other member and every client at once, without freezing it: its
// packets are dropped, its timers and leases run on, as when a machine's network fails; taking the link up again
// heals the partition. Root only (`ip netns`); where that is not allowed, the run keeps to loopback and leaves
// partitions out, saying so in its notes.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export class FaultNetwork {
  private readonly isolated = new Set<string>();
  private readonly made: { namespaces: string[]; links: string[] } = { namespaces: [], links: [] };

  private constructor(
    /** A short random tag in every name, so that runs side by side (and other checkouts' runs) never share one. */
    private readonly tag: string,
    private readonly ids: readonly string[],
  ) {}

  /** Sets up the bridge and one namespace per actor; null (with the reason noted) when this machine does not allow it. */
  static setUp(ids: readonly string[], note: (why: string) => void): FaultNetwork | null {
    if (process.getuid?.() !== 0) {
      note('partitions left out: network namespaces need root');
      return null;
    }
    const net = new FaultNetwork(crypto.randomBytes(2).toString('hex'), ids);
    try {
      net.build();
      return net;
    } catch (err) {
      net.tearDown();
      note(`partitions left out: could not set up network namespaces (${((err as { stderr?: Buffer }).stderr ?? String(err)).toString().trim()})`);
      return null;
    }
  }

  /** The /24 of this run: 10.213-244.x, from the tag. */
  private get subnet(): string {
    const n = parseInt(this.tag, 16);
    return `10.${213 + ((n >> 8) % 32)}.${n & 0xff}`;
  }

  private namespace(id: string): string {
    return `dbslm-fault-${this.tag}-${id}`;
  }

  /** The host side of an actor's link (link names have at most 15 characters). */
  private hostLink(id: string): string {
    return `dfv${this.tag}${id}`;
  }

  private get bridge(): string {
    return `dfb${this.tag}`;
  }

  /** The address an actor binds in its namespace. */
  addressOf(id: string): string {
    return `${this.subnet}.${2 + this.ids.indexOf(id)}`;
  }

  /** The command that runs `argv` inside the actor's namespace (`ip netns exec` execs it: the pid is the actor's). */
  wrap(id: string, argv: string[]): { command: string; args: string[] } {
    return { command: 'ip', args: ['netns', 'exec', this.namespace(id), ...argv] };
  }

  private build(): void {
    ip('link', 'add', this.bridge, 'type', 'bridge');
    this.made.links.push(this.bridge);
    ip('addr', 'add', `${this.subnet}.1/24`, 'dev', this.bridge);
    ip('link', 'set', this.bridge, 'up');
    for (const id of this.ids) {
      const ns = this.namespace(id);
      const peer = `dfp${this.tag}${id}`;
      ip('netns', 'add', ns);
      this.made.namespaces.push(ns);
      ip('link', 'add', this.hostLink(id), 'type', 'veth', 'peer', 'name', peer);
      this.made.links.push(this.hostLink(id));
      ip('link', 'set', peer, 'netns', ns);
      ip('link', 'set', this.hostLink(id), 'master', this.bridge);
      ip('link', 'set', this.hostLink(id), 'up');
      ip('-n', ns, 'addr', 'add', `${this.addressOf(id)}/24`, 'dev', peer);
      ip('-n', ns, 'link', 'set', peer, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  }

  /** Cuts the actor off from everyone (its link goes down); false if it already is. */
  isolate(id: string): boolean {
    if (this.isolated.has(id)) return false;
    ip('link', 'set', this.hostLink(id), 'down');
    this.isolated.add(id);
    return true;
  }

  /** Links the actor again. */
  rejoin(id: string): void {
    if (!this.isolated.delete(id)) return;
    ip('link', 'set', this.hostLink(id), 'up');
  }

  rejoinAll(): void {
    for (const id of [...this.isolated]) this.rejoin(id);
  }

  /** Removes the namespaces and links (a namespace's own end of a veth goes with it). Safe to call twice. */
  tearDown(): void {
    for (const link of this.made.links.splice(0).reverse()) {
      try {
        ip('link', 'del', link);
      } catch {
        // gone with its peer's namespace already
      }
    }
    for (const ns of this.made.namespaces.splice(0)) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  }
}
