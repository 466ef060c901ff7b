// Entry point of the bundled plugin. VERSION is answered from here with nothing else loaded; every
// other verb lazily loads only the modules it needs (the bundle keeps them as lazy initialisers).
import { readFileSync, writeSync } from 'node:fs';
import { readCommand } from './cni/env.ts';
import { asCniError, CniError, ErrorCode } from './cni/errors.ts';
import { SUPPORTED_VERSIONS } from './cni/version.ts';

const LATEST = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1] as string;

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN' || (e as NodeJS.ErrnoException).code === 'EOF') return '';
    throw new CniError(ErrorCode.IoFailure, `failed to read stdin: ${(e as Error).message}`);
  }
}

/** The cniVersion an error is reported in: the config's, when it could be read. */
function versionOf(stdin: string): string {
  const m = /"cniVersion"\s*:\s*"([^"]+)"/.exec(stdin);
  return m && (SUPPORTED_VERSIONS as readonly string[]).includes(m[1] as string) ? (m[1] as string) : LATEST;
}

function printJson(v: unknown): void {
  writeSync(1, JSON.stringify(v) + '\n');
}

function version(stdin: string): void {
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
  printJson({ cniVersion: requested, supportedVersions: SUPPORTED_VERSIONS });
}

async function main(): Promise<number> {
  let stdin = '';
  try {
    const verb = readCommand(process.env);
    stdin = readStdin();
    if (verb === 'VERSION') {
      version(stdin);
      return 0;
    }
    const { runVerb } = await import('./multus/run.ts');
    const result = await runVerb(verb, stdin);
    if (result !== undefined) printJson(result);
    return 0;
  } catch (e) {
    const err = asCniError(e);
    printJson(err.toJSON(versionOf(stdin)));
    return 1;
  }
}

main().then((code) => process.exit(code));
