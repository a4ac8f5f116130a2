// Each stage actor's last report (`done`, sent just before it ends), awaited before a run is
// summarised: the summary sums the items each actor last reported, and an actor's exit can be seen
// before its last events are read off the control socket (a split stage once summed 30 of its 32
// items that way).
import { EXIT_EVENTS_GRACE_MS, type Slot } from './stage_pool.js';

export class FinalReports {
  private readonly seen = new Set<string>();
  private readonly waiters = new Map<string, () => void>();

  /** An actor's `done` arrived. */
  done(stage: string, worker: number, incarnation: number): void {
    const key = `${stage}/${worker}/${incarnation}`;
    this.seen.add(key);
    this.waiters.get(key)?.();
  }

  /** Resolves once every slot's current incarnation reported `done` (or exited silently), or after `timeoutMs`. */
  async all(slots: readonly Slot[], timeoutMs: number): Promise<void> {
    const late = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([late, Promise.all(slots.map((slot) => this.of(slot)))]);
  }

  private of(slot: Slot): Promise<void> {
    const key = `${slot.stage}/${slot.worker}/${slot.spec.incarnation}`;
    if (this.seen.has(key)) return Promise.resolve();
    const reported = new Promise<void>((r) => this.waiters.set(key, r));
    const exitedSilent = slot.exited.then(() => new Promise<void>((r) => setTimeout(r, EXIT_EVENTS_GRACE_MS).unref()));
    return Promise.race([reported, exitedSilent]);
  }
}
