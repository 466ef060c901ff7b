// One CNI call, from its variables and stdin to what goes on stdout: the thin entry (main.ts) and the
// daemon (daemon/server.ts) both answer through here. VERSION needs nothing else loaded; the other
// verbs lazily load the Multus logic, so the thin VERSION stays as cheap as Node's start-up.
import { readCommand } from './cni/env.ts';
import { asCniError, CniError, ErrorCode } from './cni/errors.ts';
import { SUPPORTED_VERSIONS } from './cni/version.ts';
import type { CallServices } from './multus/run.ts';

const LATEST = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1] as string;

export interface CallOutcome {
  /** Exit status of the plugin: 0 success, 1 error (the error object is the output). */
  exitCode: 0 | 1;
  /** What is printed on stdout as JSON; undefined prints nothing. */
  output: unknown;
}

/** The cniVersion an error is reported in: the config's, when it could be read. */
function versionOf(stdin: string): string {
  const m = /"cniVersion"\s*:\s*"([^"]+)"/.exec(stdin);
  return m && (SUPPORTED_VERSIONS as readonly string[]).includes(m[1] as string) ? (m[1] as string) : LATEST;
}

function version(stdin: string): unknown {
  let requested = LATEST;
  if (stdin.trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdin);
    } catch (e) {
      throw new CniError(ErrorCode.DecodeFailure, 'failed to decode VERSION input', (e as Error).message);
    }
    const v = (parsed as { cniVersion?: unknown } | null)?.cniVersion;
    if (typeof v === 'string' && v) requested = v;
  }
  return { cniVersion: requested, supportedVersions: SUPPORTED_VERSIONS };
}

export async function handleCall(stdin: string, services: CallServices): Promise<CallOutcome> {
  try {
    const verb = readCommand(services.env);
    if (verb === 'VERSION') return { exitCode: 0, output: version(stdin) };
    const { runVerb } = await import('./multus/run.ts');
    return { exitCode: 0, output: await runVerb(verb, stdin, services) };
  } catch (e) {
    return { exitCode: 1, output: asCniError(e).toJSON(versionOf(stdin)) };
  }
}

/** An error that happened before the call could be handled (e.g. stdin unreadable). */
export function failedCall(e: unknown, stdin = ''): CallOutcome {
  return { exitCode: 1, output: asCniError(e).toJSON(versionOf(stdin)) };
}
