// Spawning helpers for ip/nsenter/mount and CNI plugins: argv in, exit code and output out.
import { spawn } from 'node:child_process';
import type { ExecResult } from '../provider.ts';

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /**
   * Run the command in a process group of its own and SIGKILL that group when the timeout ends it and
   * once the command itself has exited: nothing it started outlives it (see NodeCni's exec).
   */
  processGroup?: boolean;
  /** Told the pid once the command runs. */
  onSpawn?: (pid: number) => void;
}

export interface RunResult extends ExecResult {
  /** True when timeoutMs ran out and the command was killed. */
  timedOut?: boolean;
}

/** SIGKILL to a process group; a group whose members are all gone is no error. */
function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: nothing of it is left
  }
}

export function runCommand(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.reject(new Error('runCommand: empty argv'));
  return new Promise((resolve) => {
    const group = opts.processGroup === true;
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: group });
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = opts.timeoutMs ? setTimeout(() => {
      timedOut = true;
      if (group && child.pid !== undefined) killGroup(child.pid);
      else child.kill('SIGKILL');
    }, opts.timeoutMs) : undefined;
    // What the command left running in its group would hold its output pipes, so 'close' would wait for it.
    if (group) child.on('exit', () => child.pid !== undefined && killGroup(child.pid));
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(err.message) });
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}killed by ${signal}` : stderr, ...(timedOut ? { timedOut } : {}) });
    });
    // A plugin may exit without reading stdin; ignore EPIPE on its stdin.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Like runCommand but throws with the command and its stderr when it exits non-zero. */
export async function mustRun(argv: string[], opts: RunOptions = {}): Promise<string> {
  const r = await runCommand(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}
