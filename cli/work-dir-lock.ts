// One multus-e2e command at a time per cluster work dir, whatever the provider: two runs sharing a
// work dir overwrite each other's kubeconfig and state. The lock is a file next to the work dir (not
// inside it: providers remove their work dir on teardown) holding the owner's pid and command line.
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface WorkDirOwner {
  pid: number;
  /** The owner's command line, for the refusal message. */
  command: string;
  startedAt: string;
}

export class WorkDirBusyError extends Error {
  constructor(readonly workDir: string, readonly owner: WorkDirOwner) {
    super(
      `the work dir ${workDir} is in use by another multus-e2e command (pid ${owner.pid}, started ${owner.startedAt}: ` +
        `${owner.command}); wait for it to finish, or give this one another --name or --work-dir`,
    );
    this.name = 'WorkDirBusyError';
  }
}

export const lockFileOf = (workDir: string): string => `${path.resolve(workDir)}.lock`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): WorkDirOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as Partial<WorkDirOwner>;
    return typeof owner.pid === 'number' ? { pid: owner.pid, command: owner.command ?? '?', startedAt: owner.startedAt ?? '?' } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the work dir's lock for this process, or throws WorkDirBusyError naming the live owner. A lock
 * left by a process that is gone (killed, crashed) is taken over. Returns the release function.
 */
export function lockWorkDir(workDir: string, command: string, onStale: (owner: WorkDirOwner) => void = () => {}): () => void {
  const file = lockFileOf(workDir);
  mkdirSync(path.dirname(file), { recursive: true });
  const me: WorkDirOwner = { pid: process.pid, command, startedAt: new Date().toISOString() };
  // Written whole under a private name, then hard-linked into place: link() fails if the lock exists,
  // so a reader never sees a half-written lock.
  const draft = `${file}.${process.pid}`;
  writeFileSync(draft, `${JSON.stringify(me)}\n`);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(draft, file);
        return () => {
          if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true });
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = readOwner(file);
      if (owner && owner.pid !== process.pid && isAlive(owner.pid)) throw new WorkDirBusyError(path.resolve(workDir), owner);
      // The owner is gone (killed, crashed): the lock is stale. Of two commands racing for it, only
      // one wins the link() on the second attempt.
      if (owner) onStale(owner);
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(draft, { force: true });
  }
  throw new Error(`could not take the lock ${file} for the work dir ${workDir}`);
}
