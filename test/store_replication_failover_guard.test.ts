// Unit tests of when a replica may act on "the owner is dead" (store/replication/failover_guard.ts),
// on a fake clock. The seed-6 fault run at R = 2 (test/store_fault.test.ts): replica c, frozen
// 1.3 s with a dead bound of 1.5 s, resumed holding its live owner a dead (its own probes had gone
// unanswered) and promoted itself. Here: the SWIM state machine of c (store/cluster/swim.ts) on a
// simulated network reaches that lone verdict when it is frozen, and the guard refuses it; a real
// death that a quorum sees is accepted, and a stalled member waits a full dead bound.
import test from 'ava';
import type { GossipMessage } from '../schemas/cluster.js';
import type { MemberState } from '../schemas/fork_map.js';
import { WriteLease, leaseMsFor } from '../store/cluster/lease.js';
import { Swim, type Clock } from '../store/cluster/swim.js';
import { FailoverGuard } from '../store/replication/failover_guard.js';

const DEAD_AFTER = 1500;
const TICK = 50;

/**
 * A clock whose timers and message deliveries belong to members: a frozen member runs neither, and
 * on resume its overdue timers run before the messages queued for it, as Node's loop does after
 * SIGCONT (timers phase, then poll).
 */
class Sim {
  t = 0;
  private timers: { at: number; fn: () => void; id: number; owner: string; io: boolean }[] = [];
  private nextId = 0;
  readonly frozen = new Set<string>();
  /** Messages the network loses (none unless set). */
  lose: (from: string, to: string, msg: GossipMessage) => boolean = () => false;
  readonly swims = new Map<string, Swim>();
  readonly guards = new Map<string, FailoverGuard>();
  /** Each member's write lease, fed by its SWIM as in store/cluster/cluster.ts. */
  readonly leases = new Map<string, WriteLease>();
  private seed = 6;
  random = () => {
    this.seed = (this.seed * 16807) % 2147483647;
    return this.seed / 2147483647;
  };

  clockOf(owner: string): Clock {
    return {
      now: () => this.t,
      setTimeout: (fn, ms) => this.at(owner, ms, fn),
      clearTimeout: (h) => {
        this.timers = this.timers.filter((x) => x.id !== h);
      },
    };
  }

  private at(owner: string, ms: number, fn: () => void, io = false): number {
    const id = ++this.nextId;
    this.timers.push({ at: this.t + ms, fn, id, owner, io });
    return id;
  }

  resume(id: string): void {
    this.frozen.delete(id);
    for (;;) {
      const overdue = this.timers.filter((x) => x.owner === id && !x.io && x.at <= this.t).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!overdue) return;
      this.timers = this.timers.filter((x) => x !== overdue);
      overdue.fn();
    }
  }

  add(id: string): void {
    const transport = {
      send: (to: string, msg: GossipMessage) => {
        const copy = structuredClone(msg);
        const dst = [...this.swims.values()].find((s) => s.endpoint === to)!;
        if (this.lose(id, dst.id, copy)) return;
        // Delivery and the reply run on the receiver's and then the sender's turn: a frozen one handles them on resume.
        this.at(dst.id, 1, () => {
          const reply = dst.receive(copy);
          if (reply && !this.lose(dst.id, id, reply)) this.at(id, 1, () => this.swims.get(id)!.receive(structuredClone(reply)), true);
        }, true);
      },
    };
    const lease = new WriteLease(leaseMsFor(DEAD_AFTER), { now: () => this.t });
    this.leases.set(id, lease);
    const swim = new Swim({ id, endpoint: `sim://${id}`, deadAfterMs: DEAD_AFTER, random: this.random }, { entries: () => [], merge: () => {} }, transport, this.clockOf(id), lease);
    this.swims.set(id, swim);
    const guard = new FailoverGuard(DEAD_AFTER, this.t);
    this.guards.set(id, guard);
    // The replication timer (store/replication/replication.ts) beats the guard.
    const beat = () => {
      guard.beat(this.t);
      this.at(id, TICK, beat);
    };
    this.at(id, TICK, beat);
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const ready = this.timers.filter((x) => !this.frozen.has(x.owner)).sort((a, b) => a.at - b.at || a.id - b.id);
      const next = ready[0];
      if (!next || next.at > end) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }

  /** Run `ms` but stop as soon as `cond` holds. */
  until(ms: number, cond: () => boolean): boolean {
    for (let left = ms; left > 0; left -= 5) {
      this.advance(5);
      if (cond()) return true;
    }
    return false;
  }

  state(of: string, about: string): MemberState | undefined {
    return this.swims.get(of)!.get(about)?.state;
  }

  view(of: string): Map<string, MemberState> {
    return new Map(this.swims.get(of)!.list().map((m) => [m.id, m.state]));
  }

  /** What c's failover decides at this moment, given the answers of `peers`. */
  promotes(me: string, owner: string, peers: string[]): boolean {
    const guard = this.guards.get(me)!;
    if (guard.stalled(this.t)) return false;
    const views = peers.map((p) => this.view(p));
    return guard.agreedGone([owner], (id) => this.state(me, id), views, 2).has(owner);
  }
}

function cluster(): Sim {
  const sim = new Sim();
  for (const id of ['a', 'b', 'c']) sim.add(id);
  for (const id of ['b', 'c']) sim.swims.get(id)!.join(['sim://a']);
  for (const s of sim.swims.values()) s.start();
  sim.advance(2000);
  return sim;
}

test('a replica frozen past the suspicion timeout holds its live owner dead on resume, alone; the guard refuses to promote it', (t) => {
  const sim = cluster();
  for (const id of ['a', 'b', 'c']) t.deepEqual([...sim.view(id).values()], ['alive', 'alive', 'alive'], id);
  // a, a busy owner, answers c late for a moment: c suspects it and is frozen right then, before
  // a's refutation reaches it (seed 6: 1.3 s against a dead bound of 1.5 s).
  sim.lose = (from, to, msg) => to === 'c' && (from === 'a' || (msg.kind === 'ACK' && msg.target === 'a'));
  t.true(sim.until(DEAD_AFTER, () => sim.state('c', 'a') === 'suspect'), 'c suspects a');
  const frozenAt = sim.t;
  sim.lose = () => false;
  sim.frozen.add('c');
  sim.advance(1300);
  sim.resume('c');
  // c's late timers ran before its queued messages: its suspicion of a expired at once.
  const lone = sim.state('c', 'a') === 'dead';
  const at = sim.t;
  const decided = lone ? sim.promotes('c', 'a', ['b']) : false;
  t.log(lone ? `c held a dead ${at - frozenAt - 1300} ms after resuming; b held a ${sim.state('b', 'a')}` : 'c never held a dead on this schedule');
  t.true(lone, 'the frozen replica reaches the lone verdict (the seed-6 defect reproduced)');
  t.is(sim.state('b', 'a'), 'alive', 'b, which ran all along, holds a alive');
  t.false(decided, 'c must not promote itself');
  t.true(sim.guards.get('c')!.stalled(at), 'c knows it stalled');
  t.false(sim.guards.get('b')!.stalled(at), 'b did not stall');
});

test('the owner really dies: once a quorum holds it dead, the replica that ran all along promotes', (t) => {
  const sim = cluster();
  sim.frozen.add('a'); // as kill -9: a answers nothing and runs nothing
  const killedAt = sim.t;
  t.true(sim.until(DEAD_AFTER, () => sim.state('c', 'a') === 'dead'), 'c marks a dead within the bound');
  t.true(sim.until(DEAD_AFTER, () => sim.promotes('c', 'a', ['b'])), 'c promotes once b agrees');
  t.true(sim.t - killedAt <= DEAD_AFTER, `agreed ${sim.t - killedAt} ms after the kill`);
  t.false(sim.promotes('c', 'a', []), 'no promotion on its own verdict alone (quorum 2 of 3, b did not answer)');
});

test('a stalled member waits a full dead bound after resuming before any failover, even with a quorum agreeing', (t) => {
  const guard = new FailoverGuard(DEAD_AFTER, 0);
  const dead = new Map<string, MemberState>([['a', 'dead']]);
  for (let now = TICK; now <= 500; now += TICK) guard.beat(now);
  t.false(guard.stalled(500));
  t.deepEqual([...guard.agreedGone(['a'], () => 'dead', [dead], 2)], ['a']);
  // No beat from 500 to 1000 (a gap of 500 ms > 30% of the bound): stalled now, before the timer even runs.
  t.true(guard.stalled(1000), 'the gap up to now counts before the late timer runs');
  t.is(guard.beat(1000), 500, 'the resume reports the stall');
  t.true(guard.stalled(1000 + DEAD_AFTER - 1), 'within a dead bound of the resume');
  for (let now = 1000 + TICK; now <= 1000 + DEAD_AFTER; now += TICK) guard.beat(now);
  t.false(guard.stalled(1000 + DEAD_AFTER), 'a dead bound after the resume');
  // A slow turn below the threshold is no stall.
  guard.beat(1000 + DEAD_AFTER + guard.stallMs);
  t.false(guard.stalled(1000 + DEAD_AFTER + guard.stallMs));
});

test('agreement counts this member and each answering peer once; forgotten counts as gone, suspect does not', (t) => {
  const guard = new FailoverGuard(DEAD_AFTER, 0);
  const v = (s: MemberState) => new Map<string, MemberState>([['a', s]]);
  const own = (s: MemberState) => () => s;
  t.deepEqual([...guard.agreedGone(['a'], own('dead'), [v('dead'), v('alive'), v('suspect')], 2)], ['a']);
  t.deepEqual([...guard.agreedGone(['a'], own('dead'), [v('dead'), v('alive'), v('suspect')], 3)], []);
  t.deepEqual([...guard.agreedGone(['a'], own('dead'), [v('suspect'), v('alive')], 2)], []);
  t.deepEqual([...guard.agreedGone(['a'], own('alive'), [v('dead'), v('left')], 2)], ['a']);
  t.deepEqual([...guard.agreedGone(['a'], own('left'), [new Map()], 2)], [], 'a peer that never heard of a is no vote');
});

test('a quorum that holds the owner dead waits a lease period before promoting: never while the owner holds its lease', (t) => {
  // Fault seed 5 at R = 2 (a rerun): a was cut off; b and c held it dead after 0.7 s, before its lease (half the dead
  // bound) had run out, and c promoted itself at the epoch a then took for a change of its own replicas.
  const sim = cluster();
  const lease = sim.leases.get('a')!;
  const guard = sim.guards.get('c')!;
  let cut = true;
  sim.lose = (from, to) => cut && (from === 'a' || to === 'a');
  const cutAt = sim.t;
  let agreedUnderLease = false;
  let promotedAt = -1;
  for (let step = 0; step < 600 && promotedAt < 0; step++) {
    sim.advance(5);
    if (sim.t - cutAt > 2500) cut = false;
    if (guard.stalled(sim.t)) continue;
    const agreed = guard.agreedGone(['a'], (id) => sim.state('c', id), [sim.view('b')], 2);
    if (agreed.has('a') && lease.valid()) agreedUnderLease = true;
    if (!guard.agreedLongEnough(agreed, sim.t).has('a')) continue;
    promotedAt = sim.t - cutAt;
    t.false(lease.valid(), `c promotes at +${promotedAt} ms while a holds its lease`);
  }
  t.true(agreedUnderLease, 'the hazard is there: a quorum held a dead while its lease still ran');
  t.true(promotedAt > 0 && promotedAt <= DEAD_AFTER + leaseMsFor(DEAD_AFTER), `promoted at +${promotedAt} ms`);
});

test('agreement for a lease period: an owner missing from a read starts over', (t) => {
  const guard = new FailoverGuard(DEAD_AFTER, 0, undefined, 750);
  t.deepEqual([...guard.agreedLongEnough(new Set(['a', 'b']), 100)], []);
  t.deepEqual([...guard.agreedLongEnough(new Set(['a']), 500)], [], 'b left the agreement');
  t.deepEqual([...guard.agreedLongEnough(new Set(['a', 'b']), 850)], ['a'], 'a agreed since 100, b only since 850');
  t.deepEqual([...guard.agreedLongEnough(new Set(['a', 'b']), 1600)], ['a', 'b']);
});
