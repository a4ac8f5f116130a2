// A small disk for one actor's data dir: a tmpfs of a few MiB that the actor's WAL and incoming fork moves fill
// up (SQLITE_FULL / ENOSPC), plus a ballast file that fills it at a chosen moment. Needs root (mount); without it,
// or when mounting fails, the fault is skipped and the reason is reported.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Ballast is written in pieces this big (tmpfs allocates as it goes; a full disk ends the loop). */
const PIECE = 256 * 1024;

export class SmallDisk {
  private constructor(
    readonly mountDir: string,
    /** The actor's data dir, inside the mount. */
    readonly dataDir: string,
  ) {}

  /** Mount a tmpfs of `sizeMb` on a fresh dir under `parent`; null (with the reason in `note`) if that is not possible. */
  static mount(parent: string, sizeMb: number, note: (why: string) => void): SmallDisk | null {
    if (process.getuid?.() !== 0) {
      note('disk-full fault skipped: not running as root (mount -t tmpfs needs root)');
      return null;
    }
    const dir = fs.mkdtempSync(path.join(parent, 'tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe', timeout: 10000 });
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      note(`disk-full fault skipped: mount -t tmpfs failed: ${(err as Error).message.split('\n')[0]}`);
      return null;
    }
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    return new SmallDisk(dir, data);
  }

  freeBytes(): number {
    const s = fs.statfsSync(this.mountDir);
    return s.bavail * s.bsize;
  }

  /** Fill the disk but `headroom` bytes with a ballast file; returns the bytes written. */
  fill(headroom: number): number {
    const want = this.freeBytes() - headroom;
    if (want <= 0) return 0;
    const fd = fs.openSync(path.join(this.mountDir, `ballast-${Date.now()}`), 'w');
    const piece = Buffer.alloc(PIECE, 0x5a);
    let written = 0;
    try {
      while (written < want) written += fs.writeSync(fd, piece, 0, Math.min(PIECE, want - written));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    } finally {
      fs.closeSync(fd);
    }
    return written;
  }

  /** Delete every ballast file. */
  freeBallast(): void {
    for (const f of fs.readdirSync(this.mountDir)) if (f.startsWith('ballast-')) fs.rmSync(path.join(this.mountDir, f), { force: true });
  }

  /** The operator's fix for a full disk: more space (tmpfs grows in place, the files stay). */
  grow(sizeMb: number): void {
    execFileSync('mount', ['-o', `remount,size=${sizeMb}m`, this.mountDir], { stdio: 'pipe', timeout: 10000 });
  }

  /** Unmount (lazily, in case a dying process still holds a file) and remove the mount point. */
  unmount(): void {
    try {
      execFileSync('umount', ['-l', this.mountDir], { stdio: 'pipe', timeout: 10000 });
      fs.rmSync(this.mountDir, { recursive: true, force: true });
    } catch {
      // teardown is best effort; a leftover mount point is visible in `mount` output
    }
  }
}
