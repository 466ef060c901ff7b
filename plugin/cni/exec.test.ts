import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { abandonDelegates, execPlugin, runDelegatesInOwnProcessGroups } from './exec.ts';

const dir = mkdtempSync(join(tmpdir(), 'me2e-exec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A delegate that starts a child of its own (recording its pid) and waits for it: a hang of two processes. */
function hangingDelegate(): { binary: string; childPidFile: string } {
  const binary = join(dir, 'hang');
  const childPidFile = join(dir, 'child.pid');
  writeFileSync(binary, `#!/bin/sh\ncat >/dev/null\nsleep 30 &\necho $! >${childPidFile}\nwait\n`);
  chmodSync(binary, 0o755);
  return { binary, childPidFile };
}

/** Running, not a zombie waiting for whoever reaps orphans here. */
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('abandoning the delegates of a call (the daemon, when its shim went away)', () => {
  it('kills a hanging delegate and what it started, and the call fails saying it was killed', async () => {
    runDelegatesInOwnProcessGroups();
    const { binary, childPidFile } = hangingDelegate();
    const env = { command: 'ADD' as const, containerId: 'abandoned-1', netns: '/proc/self/ns/net', ifname: 'net2', args: '', path: [dir] };
    const call = execPlugin(binary, env, { cniVersion: '1.0.0', name: 'n', type: 'hang' });
    const outcome = call.then(() => 'resolved', (e: Error) => e.message);
    for (let i = 0; i < 100 && !existsSync(childPidFile); i++) await sleep(20);
    const child = Number(readFileSync(childPidFile, 'utf8'));
    expect(alive(child)).toBe(true);
    const t0 = Date.now();
    expect(abandonDelegates('abandoned-1')).toBe(1);
    expect(await outcome).toMatch(/killed by SIGKILL/);
    // At once: a child left running would hold the delegate's stdout, and the call with it, for its 30 s.
    expect(Date.now() - t0).toBeLessThan(5_000);
    for (let i = 0; i < 50 && alive(child); i++) await sleep(20);
    expect(alive(child), `the delegate's own child ${child} outlived it`).toBe(false);
    // Nothing is left registered for that container.
    expect(abandonDelegates('abandoned-1')).toBe(0);
  });
});
