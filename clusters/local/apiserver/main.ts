// Process entry of the embedded API server:
//   node --import tsx clusters/local/apiserver/main.ts --cert-dir D --host H [--host H2] --port P --token-file F
// Prints one JSON line {"ready":true,"url":...,"port":...,"caFile":...} once serving (plus "token" when
// no --token-file was given); exits cleanly on SIGTERM/SIGINT.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startApiServer } from './index.ts';

const USAGE = `usage: main.ts --cert-dir DIR [--host ADDR]... [--port N] [--token-file FILE] [--san NAME]... [--log-requests]
  --cert-dir     where ca.crt/ca.key/apiserver.crt/apiserver.key live (generated with openssl when missing)
  --host         address to listen on (repeatable, default 127.0.0.1); all share one port
  --port         port, 0 picks a free one (default 0)
  --token-file   bearer token to accept; a new token is written there when the file does not exist
  --san          extra IP or DNS name for the serving certificate (repeatable)
  --log-requests one line per request on stderr`;

function fail(message: string): never {
  process.stderr.write(`apiserver: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'cert-dir': { type: 'string' },
        host: { type: 'string', multiple: true },
        port: { type: 'string' },
        'token-file': { type: 'string' },
        san: { type: 'string', multiple: true },
        'log-requests': { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const certDir = values['cert-dir'];
  if (!certDir) fail('--cert-dir is required');
  const port = Number(values.port ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port ${values.port}: not a port number`);

  let token: string | undefined;
  const tokenFile = values['token-file'];
  if (tokenFile && existsSync(tokenFile)) {
    token = readFileSync(tokenFile, 'utf8').trim();
    if (!token) fail(`--token-file ${tokenFile} is empty`);
  } else if (tokenFile) {
    token = randomBytes(24).toString('hex');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  }

  const server = await startApiServer({
    certDir, port, token, hosts: values.host, sans: values.san,
    requestLog: values['log-requests'] ? (line) => process.stderr.write(`${line}\n`) : undefined,
  });
  let closing = false;
  const stop = (): void => {
    if (closing) return;
    closing = true;
    server.close().then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(`apiserver: error while closing: ${String(err)}\n`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Without --token-file the generated token would be lost, so the ready line carries it.
  const ready = { ready: true, url: server.url, port: server.port, caFile: server.caFile, ...(tokenFile ? {} : { token: server.token }) };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`apiserver: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
