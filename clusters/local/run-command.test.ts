import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runCommand } from './run-command.ts';

/** Running, not a zombie waiting for whoever reaps orphans here. */
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(20);
  return !alive(pid);
}

describe('runCommand with a process group of its own (how the node agent runs a CNI plugin)', () => {
  it('on timeout kills the command and what it started, and says it timed out', async () => {
    let pid: number | undefined;
    const t0 = Date.now();
    const r = await runCommand(['sh', '-c', 'sleep 30 & echo $! >&2; wait'], { timeoutMs: 500, processGroup: true, onSpawn: (p) => (pid = p) });
    expect(r.timedOut).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(pid).toBeGreaterThan(0);
    const child = Number(r.stderr.split('\n')[0]);
    expect(await gone(child), `the command's child ${child} outlived the timeout`).toBe(true);
  });

  it('once the command exits, kills what it left running (which would hold its output open)', async () => {
    const t0 = Date.now();
    const r = await runCommand(['sh', '-c', 'sleep 30 & echo $!'], { timeoutMs: 20_000, processGroup: true });
    expect(r.code).toBe(0);
    expect(r.timedOut).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(5_000);
    const child = Number(r.stdout.trim());
    expect(await gone(child), `the command's child ${child} outlived it`).toBe(true);
  });
});
