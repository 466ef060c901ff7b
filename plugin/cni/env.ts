// The CNI execution environment (spec §2 "Parameters"): which variables each verb needs, CNI_ARGS parsing.
import { CniError, ErrorCode } from './errors.ts';

export const VERBS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'] as const;
export type Verb = (typeof VERBS)[number];

export interface CniEnv {
  command: Verb;
  containerId: string;
  netns: string;
  ifname: string;
  args: string;
  path: string[];
}

const REQUIRED: Record<Verb, string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  VERSION: [],
  STATUS: [],
  GC: [],
};

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function readCommand(env: NodeJS.ProcessEnv): Verb {
  const cmd = env['CNI_COMMAND'];
  if (!cmd) throw new CniError(ErrorCode.InvalidEnvironment, 'required env variables [CNI_COMMAND] missing');
  if (!(VERBS as readonly string[]).includes(cmd)) {
    throw new CniError(ErrorCode.InvalidEnvironment, `invalid CNI_COMMAND "${cmd}"`, `expected one of ${VERBS.join(', ')}`);
  }
  return cmd as Verb;
}

/** Read and validate the variables `command` needs; the error names every missing/invalid variable. */
export function parseEnv(env: NodeJS.ProcessEnv): CniEnv {
  const command = readCommand(env);
  const missing = REQUIRED[command].filter((k) => !env[k]);
  if (missing.length) {
    throw new CniError(ErrorCode.InvalidEnvironment, `required env variables [${missing.join(',')}] missing`);
  }
  const containerId = env['CNI_CONTAINERID'] ?? '';
  if (containerId && !CONTAINER_ID.test(containerId)) {
    throw new CniError(
      ErrorCode.InvalidEnvironment,
      `invalid CNI_CONTAINERID "${containerId}"`,
      'must start with an alphanumeric character followed by alphanumerics, "_", "." or "-"',
    );
  }
  const ifname = env['CNI_IFNAME'] ?? '';
  const args = env['CNI_ARGS'] ?? '';
  parseCniArgs(args);
  return {
    command,
    containerId,
    netns: env['CNI_NETNS'] ?? '',
    ifname,
    args,
    path: (env['CNI_PATH'] ?? '').split(':').filter(Boolean),
  };
}

/** "K=V;K2=V2" into a map; malformed pairs are an invalid-environment error naming CNI_ARGS. */
export function parseCniArgs(args: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of args.split(';')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError(ErrorCode.InvalidEnvironment, `invalid CNI_ARGS pair "${pair}"`, 'expected KEY=VALUE pairs separated by ";"');
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}

/** Render a map back into CNI_ARGS form. */
export function formatCniArgs(args: Map<string, string>): string {
  return [...args].map(([k, v]) => `${k}=${v}`).join(';');
}
