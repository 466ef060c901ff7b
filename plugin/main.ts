// Entry point of the bundled thin plugin: read stdin, answer the call (call.ts), print, exit.
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

async function main(): Promise<number> {
  let outcome: CallOutcome;
  try {
    outcome = await handleCall(readStdin(), { env: process.env });
  } catch (e) {
    outcome = failedCall(e);
  }
  if (outcome.output !== undefined) writeSync(1, JSON.stringify(outcome.output) + '\n');
  return outcome.exitCode;
}

main().then((code) => process.exit(code));
