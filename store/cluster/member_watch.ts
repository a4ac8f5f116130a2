// Waiting on a member without outliving it: a request that another member carries out (a forwarded move, a share of a
// takeover) fails as soon as gossip marks that member dead or forgotten, rather than when its timeout runs out.
import type { MemberState } from '../../schemas/fork_map.js';

const POLL_MS = 100;

/** Settles as `work` does, or rejects with `onDead()` once `stateOf()` says dead or left; polls only while `work` is pending. */
export function failWhenDead<T>(work: Promise<T>, stateOf: () => MemberState | undefined, onDead: () => Error, pollMs = POLL_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setInterval(() => {
      const state = stateOf();
      if (state !== 'dead' && state !== 'left') return;
      clearInterval(timer);
      reject(onDead());
    }, pollMs);
    timer.unref();
    work.then(
      (value) => {
        clearInterval(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearInterval(timer);
        reject(err as Error);
      },
    );
  });
}
