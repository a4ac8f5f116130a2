// Unit tests of the SWIM state machine (store/cluster/swim.ts), with the write lease it feeds (store/cluster/lease.ts),
// on a simulated clock and network. The lease's rules alone are in store_lease.test.ts; the acceptance tests with
// real actor processes are in store_cluster_membership.test.ts and store_cluster_moves.test.ts.
import test from 'ava';
import type { GossipMessage } from '../schemas/cluster.js';
import type { ForkEntry } from '../schemas/fork_map.js';
import { WriteLease, leaseMsFor } from '../store/cluster/lease.js';
import { Swim, type Clock, type ForkMapView } from '../store/cluster/swim.js';

class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.nextId;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void { this.timers = this.timers.filter((x) => x.id !== h); }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

/** A map that keeps the newest epoch per fork, like store/fork_map.ts. */
class MiniMap implements ForkMapView {
  m = new Map<string, ForkEntry>();
  entries(): ForkEntry[] { return [...this.m.values()]; }
  merge(entries: ForkEntry[]): void {
    for (const e of entries) {
      const cur = this.m.get(e.fork);
      if (!cur || e.epoch > cur.epoch) this.m.set(e.fork, { ...e });
    }
  }
}

/** Nodes joined by a network with 1 ms latency; a frozen node neither receives nor runs its timers' effects. */
class Net {
  clock = new FakeClock();
  nodes = new Map<string, { swim: Swim; map: MiniMap; lease: WriteLease }>();
  down = new Set<string>();
  seed = 1;
  random = () => { this.seed = (this.seed * 16807) % 2147483647; return this.seed / 2147483647; };
  add(id: string, deadAfterMs = 1000): Swim {
    const map = new MiniMap();
    const ep = `sim://${id}`;
    const transport = {
      send: (to: string, msg: GossipMessage) => {
        const copy = structuredClone(msg);
        this.clock.setTimeout(() => {
          const dst = [...this.nodes.values()].find((n) => n.swim.endpoint === to);
          if (!dst || this.down.has(dst.swim.id) || this.down.has(id)) return;
          const reply = dst.swim.receive(copy);
          if (!reply) return;
          // As store/cluster/gossip.ts: a NONE reply is only read for a refusal (the sender holds us forgotten).
          this.clock.setTimeout(() => {
            if (this.down.has(id) || this.down.has(dst.swim.id)) return;
            if (reply.kind === 'NONE') swim.receiveRefusal(structuredClone(reply));
            else swim.receive(structuredClone(reply));
          }, 1);
        }, 1);
      },
    };
    const lease = new WriteLease(leaseMsFor(deadAfterMs), this.clock);
    const swim = new Swim({ id, endpoint: ep, deadAfterMs, random: this.random }, map, transport, this.clock, lease);
    this.nodes.set(id, { swim, map, lease });
    return swim;
  }
  state(of: string, about: string): string | undefined { return this.nodes.get(of)!.swim.get(about)?.state; }
}

function cluster(n: number, deadAfterMs = 1000): Net {
  const net = new Net();
  for (let i = 0; i < n; i++) net.add(`a${i}`, deadAfterMs);
  net.nodes.get('a0')!.map.merge([{ fork: '00', owner: 'a0', epoch: 1 }, { fork: '01', owner: 'a0', epoch: 1 }]);
  for (const { swim } of net.nodes.values()) {
    if (swim.id !== 'a0') swim.join(['sim://a0']);
    swim.start();
  }
  net.clock.advance(2000);
  return net;
}

test('joining members learn every member and the fork map from one seed', (t) => {
  const net = cluster(4);
  for (const { swim, map } of net.nodes.values()) {
    t.deepEqual(swim.list().map((m) => `${m.id}:${m.state}`), ['a0:alive', 'a1:alive', 'a2:alive', 'a3:alive'], swim.id);
    t.is(map.m.get('01')?.owner, 'a0');
  }
});

test('a crashed member is suspected, then marked dead by all within the bound', (t) => {
  const net = cluster(4, 1000);
  net.down.add('a2');
  const killedAt = net.clock.now();
  let deadEverywhereAt = -1;
  for (let step = 0; step < 300 && deadEverywhereAt < 0; step++) {
    net.clock.advance(10);
    if (['a0', 'a1', 'a3'].every((id) => net.state(id, 'a2') === 'dead')) deadEverywhereAt = net.clock.now();
  }
  t.true(deadEverywhereAt > 0, 'a2 never marked dead');
  t.true(deadEverywhereAt - killedAt <= 1000, `took ${deadEverywhereAt - killedAt} ms`);
  t.true(deadEverywhereAt - killedAt >= 300, 'dead before the suspicion timeout could run');
});

test('a member suspected while frozen refutes with a higher incarnation when it comes back', (t) => {
  const net = cluster(3, 1000);
  net.down.add('a1');
  net.clock.advance(1500);
  t.is(net.state('a0', 'a1'), 'dead');
  const before = net.nodes.get('a1')!.swim.incarnation;
  net.down.delete('a1');
  net.clock.advance(2000);
  t.true(net.nodes.get('a1')!.swim.incarnation > before);
  t.is(net.state('a0', 'a1'), 'alive');
  t.is(net.state('a2', 'a1'), 'alive');
});

test('indirect probes keep a member alive when only the direct path fails', (t) => {
  const net = cluster(3, 1000);
  // Drop only a0 -> a2 direct pings by making a0 unable to reach a2's endpoint; a1 relays.
  const a0 = net.nodes.get('a0')!.swim;
  const real = (a0 as unknown as { transport: { send: (e: string, m: GossipMessage) => void } }).transport;
  const send = real.send;
  real.send = (ep, msg) => { if (ep !== 'sim://a2') send(ep, msg); };
  net.clock.advance(3000);
  t.is(net.state('a0', 'a2'), 'alive');
});

test('the newest epoch of a fork wins as the map spreads by gossip', (t) => {
  const net = cluster(4);
  net.nodes.get('a3')!.map.merge([{ fork: '01', owner: 'a3', epoch: 2 }]);
  net.nodes.get('a1')!.map.merge([{ fork: '00', owner: 'a0', epoch: 0 }]);
  net.clock.advance(1500);
  for (const { map } of net.nodes.values()) {
    t.deepEqual(map.m.get('01'), { fork: '01', owner: 'a3', epoch: 2 });
    t.deepEqual(map.m.get('00'), { fork: '00', owner: 'a0', epoch: 1 });
  }
});

test('the write lease needs recent acks from a quorum and lapses on a freeze', (t) => {
  const net = cluster(3, 1000);
  const { swim: a1, lease } = net.nodes.get('a1')!;
  t.true(lease.valid());
  // a1 is cut off from everyone: after the lease time it must stop claiming a lease, even though it runs.
  net.down.add('a1');
  net.clock.advance(lease.durationMs + 200);
  t.false(lease.valid());
  net.down.delete('a1');
  net.clock.advance(1000);
  t.true(lease.valid());
  // One member alone out of three (the others dead) has no quorum.
  net.down.add('a0');
  net.down.add('a2');
  net.clock.advance(3000);
  t.is(a1.get('a0')?.state, 'dead');
  t.false(lease.valid());
});

test('a member its peers hold dead gets no lease from their acks until one holds it alive again (its refutation)', (t) => {
  // Fault seed 5 at R = 2: an owner cut off past its peers' suspicion timeout came back before it held them dead;
  // their acks, which told it they held it dead, renewed its lease, and it changed a fork's replicas at the epoch
  // the failover then took for its promotion: two owners at epoch 36. Here the member is stopped (its own probes
  // too, as a SIGSTOP or a starved process), so it comes back holding its peers alive and pings them at once.
  const net = cluster(3, 1000);
  const { swim: a1, lease } = net.nodes.get('a1')!;
  a1.stop();
  net.down.add('a1');
  net.clock.advance(1500);
  t.is(net.state('a0', 'a1'), 'dead');
  t.is(net.state('a2', 'a1'), 'dead');
  t.is(net.state('a1', 'a0'), 'alive');
  net.down.delete('a1');
  a1.start();
  let validAt = -1;
  for (let step = 0; step < 1000 && validAt < 0; step++) {
    net.clock.advance(1);
    if (!lease.valid()) continue;
    validAt = step;
    t.true(['a0', 'a2'].some((id) => net.state(id, 'a1') === 'alive'), `lease at +${step} ms while every peer holds a1 dead`);
  }
  t.true(validAt >= 0, 'the lease came back once a peer took the refutation');
});

test('peers reached only through helpers stay alive, but their relayed acks grant no lease', (t) => {
  const net = cluster(5, 1000);
  // a0 can send to a4 only; a4 pings the others for it and relays their acks.
  const a0 = net.nodes.get('a0')!;
  const real = (a0.swim as unknown as { transport: { send: (e: string, m: GossipMessage) => void } }).transport;
  const send = real.send;
  real.send = (ep, msg) => { if (ep === 'sim://a4') send(ep, msg); };
  net.clock.advance(3000);
  for (const id of ['a1', 'a2', 'a3']) t.is(net.state('a0', id), 'alive', id);
  t.false(a0.lease.valid(), 'one direct ack (a4) out of the two a majority of five needs');
  t.true(net.nodes.get('a4')!.lease.valid());
});

test('a forgotten member is refused whatever incarnation it comes back with: no acks, so no lease, and it learns it was forgotten', (t) => {
  const net = cluster(3, 1000);
  net.down.add('a2');
  net.clock.advance(3000);
  t.is(net.state('a0', 'a2'), 'dead');
  const a0 = net.nodes.get('a0')!;
  a0.swim.forget({ id: 'a2' });
  t.is(a0.lease.memberCount(), 2);
  net.clock.advance(500);
  t.is(net.state('a1', 'a2'), 'left', 'the news spreads');
  t.true(a0.lease.valid());

  net.down.delete('a2'); // resumed, as after SIGCONT: it refutes with higher incarnations
  net.clock.advance(3000);
  const a2 = net.nodes.get('a2')!;
  t.is(net.state('a0', 'a2'), 'left');
  t.is(net.state('a1', 'a2'), 'left');
  t.true(a2.swim.forgotten);
  t.false(a2.lease.valid(), 'a forgotten member got acks');
});

test('a member that was down while another was forgotten learns it from the first message it gets', (t) => {
  const net = cluster(4, 1000);
  net.down.add('a3');
  net.down.add('a2');
  net.clock.advance(3000);
  net.nodes.get('a0')!.swim.forget({ id: 'a3' });
  net.clock.advance(3000); // long after the news stopped being gossiped
  t.is(net.state('a1', 'a3'), 'left');
  t.is(net.state('a2', 'a3'), 'dead', 'a2 was down');
  net.down.delete('a2');
  net.clock.advance(300);
  t.is(net.state('a2', 'a3'), 'left');
});

test('the default dead bound is 5 s', (t) => {
  const s = new Swim({ id: 'x', endpoint: 'sim://x' }, new MiniMap(), { send: () => {} }, new FakeClock());
  t.is(s.deadAfterMs, 5000);
});
