// Bundles the plugin, its thick-mode daemon and the installer into single self-contained executables
// (no node_modules at run time): plugin/dist/multus, multus-daemon and multus-install; copies the
// thick-mode shim (a shell script) to plugin/dist/multus-shim. dist/multus is loader.ts with the
// bundle of main.ts inside it as a string, which the loader compiles with a V8 code cache. Every file is
// written beside its place and renamed into it, so a cluster being set up while `npm run build` runs again
// (CI does both at once) copies the old file or the new one, never a half-written one.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
mkdirSync(dist, { recursive: true });
function writeAtomically(file, contents, mode = 0o644) {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, contents, { mode });
  renameSync(tmp, file);
}
// CommonJS so the extensionless files load the same inside this "type":"module" repo and when copied
// alone into /opt/cni/bin.
writeAtomically(join(dist, 'package.json'), '{ "type": "commonjs" }\n');

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, legalComments: 'none', logLevel: 'warning' };
const thin = await build({ ...common, entryPoints: [join(here, 'main.ts')], write: false });
const bundle = thin.outputFiles[0].text;
const loaderDefine = {
  BUNDLE_SOURCE: JSON.stringify(bundle),
  BUNDLE_HASH: JSON.stringify(createHash('sha256').update(bundle).digest('hex')),
};

const targets = [
  { entry: 'loader.ts', out: 'multus', define: loaderDefine },
  { entry: 'install/main.ts', out: 'multus-install' },
  { entry: 'daemon/main.ts', out: 'multus-daemon' },
];
for (const t of targets) {
  const outfile = join(dist, t.out);
  const out = await build({ ...common, entryPoints: [join(here, t.entry)], write: false, banner: { js: '#!/usr/bin/env node' }, ...(t.define ? { define: t.define } : {}) });
  writeAtomically(outfile, out.outputFiles[0].contents, 0o755);
  console.log(`built ${outfile}`);
}
const shim = join(dist, 'multus-shim');
writeAtomically(shim, readFileSync(join(here, 'daemon/shim.sh')), 0o755);
console.log(`built ${shim}`);
