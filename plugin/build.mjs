// Bundles the plugin, its thick-mode daemon and the installer into single self-contained executables
// (no node_modules at run time): plugin/dist/multus, multus-daemon and multus-install; copies the
// thick-mode shim (a shell script) to plugin/dist/multus-shim.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
mkdirSync(dist, { recursive: true });
// CommonJS so the extensionless files load the same inside this "type":"module" repo and when copied
// alone into /opt/cni/bin.
writeFileSync(join(dist, 'package.json'), '{ "type": "commonjs" }\n');

const targets = [
  { entry: 'main.ts', out: 'multus' },
  { entry: 'install/main.ts', out: 'multus-install' },
  { entry: 'daemon/main.ts', out: 'multus-daemon' },
];
for (const t of targets) {
  const outfile = join(dist, t.out);
  await build({
    entryPoints: [join(here, t.entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  chmodSync(outfile, 0o755);
  console.log(`built ${outfile}`);
}
const shim = join(dist, 'multus-shim');
copyFileSync(join(here, 'daemon/shim.sh'), shim);
chmodSync(shim, 0o755);
console.log(`built ${shim}`);
