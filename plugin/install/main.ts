// multus-install entry: see install.ts. Exits 0 after installing, or with --cleanup-config-on-exit
// stays until SIGTERM/SIGINT and then removes what it wrote.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseFlags, UsageError } from './flags.ts';
import { cleanup, install, InstallError } from './install.ts';

const say = (line: string) => process.stdout.write(`multus-install: ${line}\n`);

async function main(): Promise<number> {
  // The bundled plugin sits next to the bundled installer in plugin/dist.
  const opts = parseFlags(process.argv.slice(2), join(dirname(process.argv[1] ?? '.'), 'multus'));
  const written = await install(opts, process.env, (d) => readdirSync(d), say);
  if (!opts.cleanupConfigOnExit) return 0;
  say('installed; waiting for SIGTERM to remove the configuration');
  await new Promise<void>((resolve) => {
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const stop = () => {
      clearInterval(keepAlive);
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  cleanup(written, say);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    const usage = e instanceof UsageError;
    process.stderr.write(`multus-install: ${usage ? 'usage: ' : ''}${(e as Error).message}\n`);
    process.exit(usage || e instanceof InstallError ? 2 : 1);
  },
);
