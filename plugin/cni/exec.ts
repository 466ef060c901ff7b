// Executing delegate plugins (spec §4): CNI_PATH lookup, environment, stdin/stdout, error objects.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { CniError, ErrorCode } from './errors.ts';
import type { CniEnv } from './env.ts';

export function findPlugin(type: string, dirs: string[]): string {
  if (!type || type.includes('/')) throw new CniError(ErrorCode.InvalidConfig, `invalid plugin type "${type}"`);
  for (const dir of dirs) {
    const p = join(dir, type);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this directory; keep looking
    }
  }
  throw new CniError(ErrorCode.InvalidConfig, `failed to find plugin "${type}" in path [${dirs.join(' ')}]`);
}

/** A delegate gets the same CNI variables a runtime gives us, with its own values. */
export type DelegateEnv = CniEnv;

/** A delegate's own error object (or a synthesized one when it printed none). */
export class DelegateError extends CniError {}

/** Delegates running now, by the container (CNI_CONTAINERID) whose call runs them; kept in own-group mode only. */
const running = new Map<string, Set<ChildProcess>>();
/**
 * Whether each delegate runs in a process group of its own, tracked in `running`. In a thin plugin it
 * stays in ours and untracked: the runtime kills the plugin's group when it gives up, and with it the
 * delegates. The daemon (thick mode) is not such a group, so it kills an abandoned call's delegates
 * itself (abandonDelegates).
 */
let ownGroups = false;

export function runDelegatesInOwnProcessGroups(): void {
  ownGroups = true;
}

/**
 * SIGKILL to the process groups of the delegates running for a container (own-group mode): the call
 * they serve was abandoned (its shim is gone). Each fails as killed. Returns how many there were.
 */
export function abandonDelegates(containerId: string): number {
  const children = [...(running.get(containerId) ?? [])];
  for (const child of children) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return children.length;
}

function track(containerId: string, child: ChildProcess): void {
  const mine = running.get(containerId) ?? new Set<ChildProcess>();
  running.set(containerId, mine.add(child));
  const forget = () => {
    mine.delete(child);
    if (mine.size === 0 && running.get(containerId) === mine) running.delete(containerId);
  };
  child.on('exit', forget);
  child.on('error', forget);
}

/** Run `binary` with CNI env and `config` on stdin; returns parsed stdout (undefined when empty). */
export function execPlugin(binary: string, env: DelegateEnv, config: unknown): Promise<unknown> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    CNI_COMMAND: env.command,
    CNI_CONTAINERID: env.containerId,
    CNI_NETNS: env.netns,
    CNI_IFNAME: env.ifname,
    CNI_ARGS: env.args,
    CNI_PATH: env.path.join(':'),
  };
  return new Promise((resolve, reject) => {
    // Delegate stderr goes to ours, as the spec asks.
    const child = spawn(binary, [], { env: childEnv, stdio: ['pipe', 'pipe', 'inherit'], detached: ownGroups });
    if (ownGroups) track(env.containerId, child);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (e) => reject(new DelegateError(ErrorCode.IoFailure, `failed to execute ${binary}: ${e.message}`)));
    child.stdin.on('error', () => {
      // A plugin may exit without reading stdin; its exit status tells what happened.
    });
    child.on('close', (code, signal) => {
      const out = Buffer.concat(chunks).toString('utf8').trim();
      let parsed: unknown;
      try {
        parsed = out ? JSON.parse(out) : undefined;
      } catch {
        parsed = undefined;
      }
      if (code === 0) {
        if (out && parsed === undefined) {
          reject(new DelegateError(ErrorCode.DecodeFailure, `${binary} printed invalid JSON`, out.slice(0, 500)));
        } else resolve(parsed);
        return;
      }
      const obj = parsed as { code?: unknown; msg?: unknown; details?: unknown } | undefined;
      if (obj && typeof obj.code === 'number' && typeof obj.msg === 'string') {
        reject(new DelegateError(obj.code, obj.msg, typeof obj.details === 'string' ? obj.details : ''));
      } else {
        const why = signal ? `killed by ${signal}` : `exit status ${code}`;
        reject(new DelegateError(ErrorCode.DelegateFailed, `${binary} failed (${why})`, out.slice(0, 500)));
      }
    });
    child.stdin.end(JSON.stringify(config));
  });
}
