import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockFileOf, lockWorkDir, WorkDirBusyError } from './work-dir-lock.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'me2e-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('work dir lock', () => {
  it('is a file next to the work dir naming this process, removed on release', () => {
    const work = join(dir, 'me2e');
    const release = lockWorkDir(work, 'multus-e2e run --name me2e');
    const owner = JSON.parse(readFileSync(`${work}.lock`, 'utf8')) as { pid: number; command: string };
    expect(owner).toMatchObject({ pid: process.pid, command: 'multus-e2e run --name me2e' });
    expect(existsSync(work)).toBe(false);
    release();
    expect(existsSync(lockFileOf(work))).toBe(false);
    lockWorkDir(work, 'again')();
  });

  it('refuses while another live process holds it, naming that process and its command', async () => {
    const work = join(dir, 'me2e');
    const other = spawn('sleep', ['30']);
    try {
      writeFileSync(lockFileOf(work), JSON.stringify({ pid: other.pid, command: 'multus-e2e run --provider kind', startedAt: '2026-11-30T23:00:00Z' }));
      let error: unknown;
      try {
        lockWorkDir(work, 'multus-e2e run --provider local');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(WorkDirBusyError);
      expect((error as Error).message).toContain(`the work dir ${work} is in use by another multus-e2e command (pid ${other.pid}`);
      expect((error as Error).message).toContain('multus-e2e run --provider kind');
      // The refused command leaves the owner's lock alone.
      expect(JSON.parse(readFileSync(lockFileOf(work), 'utf8'))).toMatchObject({ pid: other.pid });
    } finally {
      other.kill();
    }
  });

  it('takes over a lock whose owner is gone, and reports it', async () => {
    const work = join(dir, 'me2e');
    const gone = spawn('true');
    await new Promise((resolve) => gone.on('exit', resolve));
    writeFileSync(lockFileOf(work), JSON.stringify({ pid: gone.pid, command: 'crashed run', startedAt: 'x' }));
    const stale: string[] = [];
    const release = lockWorkDir(work, 'new run', (o) => stale.push(o.command));
    expect(stale).toEqual(['crashed run']);
    expect(JSON.parse(readFileSync(lockFileOf(work), 'utf8'))).toMatchObject({ pid: process.pid, command: 'new run' });
    release();
  });
});
