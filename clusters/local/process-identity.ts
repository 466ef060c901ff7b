// A pid plus its kernel start time names a process unambiguously, so destroy() after a crash never
// signals an unrelated process that reused the pid.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessRef {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot). */
  startTime: string;
}

export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces; the fields after it start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

export function processRef(pid: number): ProcessRef {
  const startTime = processStartTime(pid);
  if (startTime === undefined) throw new Error(`process ${pid} is not running`);
  return { pid, startTime };
}

/** Running: the same process (pid and start time), and not a zombie (where nothing reaps orphans, a killed one stays one). */
export function isAlive(ref: ProcessRef): boolean {
  return processStartTime(ref.pid) === ref.startTime && !isZombie(ref.pid);
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
export async function stopProcess(ref: ProcessRef, graceMs = 5000): Promise<void> {
  if (!isAlive(ref)) return;
  try {
    process.kill(ref.pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(ref) && !isZombie(ref.pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(ref.pid, 'SIGKILL');
      } catch {
        return;
      }
      await sleep(100);
      return;
    }
    await sleep(50);
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

