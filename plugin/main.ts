// The bundled thin plugin's call: answer it (call.ts) and print; loader.ts reads stdin, runs this and exits.
import { readFileSync, writeSync } from 'node:fs';
import { failedCall, handleCall, type CallOutcome } from './call.ts';
import { CniError, ErrorCode } from './cni/errors.ts';

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN' || (e as NodeJS.ErrnoException).code === 'EOF') return '';
    throw new CniError(ErrorCode.IoFailure, `failed to read stdin: ${(e as Error).message}`);
  }
}

/** One call; `stdin` as loader.ts read it (undefined: reading failed there, and is tried here again). */
export async function runThin(stdin: string | undefined): Promise<number> {
  let outcome: CallOutcome;
  try {
    outcome = await handleCall(stdin ?? readStdin(), { env: process.env });
  } catch (e) {
    outcome = failedCall(e);
  }
  if (outcome.output !== undefined) writeSync(1, JSON.stringify(outcome.output) + '\n');
  return outcome.exitCode;
}
