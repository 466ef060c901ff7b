// Calling the delegate the way a runtime does (CNI spec §2): CNI_* in the environment, the request
// configuration on stdin, run inside the harness's "host" network namespace so whatever it creates on
// the host side (bridges, veth ends, routes) lands there and nowhere else. Every call is kept: the
// certificate's evidence quotes them, and error.well-formed judges every error seen.
import path from 'node:path';
import { runCommand } from '../clusters/local/run-command.ts';

export type Verb = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

export interface CallSpec {
  /** CNI_COMMAND; null leaves it out, a string that is not a verb sends that string. */
  command: Verb | string | null;
  containerId?: string;
  netns?: string;
  ifname?: string;
  /** The configuration (serialized as JSON) or raw stdin text. */
  stdin: object | string;
  /** Variables to leave out even though the call would set them (env.missing). */
  omit?: string[];
  /** Why the harness made this call, e.g. "ADD (CNI 1.0.0)"; shown in evidence. */
  purpose: string;
}

export interface CallRecord {
  purpose: string;
  env: Record<string, string>;
  stdin: string;
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  /** Killed by the harness after CALL_TIMEOUT_MS. */
  timedOut: boolean;
}

/** How long one call may take; generous, since a machine busy with other work slows every exec down. */
export const CALL_TIMEOUT_MS = 180_000;

/** The JSON a call printed on stdout, or undefined when it printed something else. */
export function stdoutJson(call: CallRecord): unknown {
  try {
    return JSON.parse(call.stdout);
  } catch {
    return undefined;
  }
}

export class Delegate {
  /** `calls` may be shared by the delegates of several host namespaces, so one list holds every call. */
  constructor(readonly binary: string, readonly hostNetns: string, readonly calls: CallRecord[] = [], private readonly timeoutMs = CALL_TIMEOUT_MS) {}

  async call(spec: CallSpec): Promise<CallRecord> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_PATH: path.dirname(this.binary),
      ...(spec.command !== null ? { CNI_COMMAND: spec.command } : {}),
      ...(spec.containerId !== undefined ? { CNI_CONTAINERID: spec.containerId } : {}),
      ...(spec.netns !== undefined ? { CNI_NETNS: spec.netns } : {}),
      ...(spec.ifname !== undefined ? { CNI_IFNAME: spec.ifname } : {}),
    };
    for (const name of spec.omit ?? []) delete env[name];
    const stdin = typeof spec.stdin === 'string' ? spec.stdin : JSON.stringify(spec.stdin);
    const t0 = performance.now();
    const res = await runCommand(['ip', 'netns', 'exec', this.hostNetns, this.binary], { env, input: stdin, timeoutMs: this.timeoutMs });
    const ms = Math.round((performance.now() - t0) * 10) / 10;
    const timedOut = ms >= this.timeoutMs && /killed by SIGKILL/.test(res.stderr);
    const record: CallRecord = { purpose: spec.purpose, env, stdin, code: res.code, stdout: res.stdout, stderr: res.stderr, ms, timedOut };
    this.calls.push(record);
    return record;
  }
}

/** One line of evidence for a call: what was asked and what came back. */
export function describeCall(c: CallRecord): string {
  const vars = Object.entries(c.env).filter(([k]) => k.startsWith('CNI_') && k !== 'CNI_PATH').map(([k, v]) => `${k}=${v}`).join(' ');
  const out = c.stdout.trim().replace(/\s+/g, ' ').slice(0, 300);
  const err = c.stderr.trim().replace(/\s+/g, ' ').slice(0, 200);
  if (c.timedOut) return `${c.purpose} [${vars}] → killed after ${Math.round(c.ms / 1000)} s without an answer`;
  return `${c.purpose} [${vars}] → exit ${c.code}${out ? `, stdout ${out}` : ''}${err ? `, stderr ${err}` : ''}`;
}
