// Child processes the CLI runs in the package root with its own stdout/stderr (npm, allure, cucumber).
import { spawn } from 'node:child_process';
import { PACKAGE_ROOT } from './paths.ts';

export interface InheritedRun {
  env?: NodeJS.ProcessEnv;
  /** Told the child's pid, so a signal handler can pass a Ctrl-C on. */
  onChild?: (pid: number) => void;
}

/** Resolves with the exit code (128 when a signal ended the child). */
export function runInherited(cmd: string, args: string[], opts: InheritedRun = {}): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: PACKAGE_ROOT, stdio: ['ignore', 'inherit', 'inherit'], ...(opts.env ? { env: opts.env } : {}) });
    if (child.pid !== undefined) opts.onChild?.(child.pid);
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
