// How a process of this harness starts one of its TypeScript entry scripts (the cluster daemon, the
// fabric listener) in a child Node: through tsx, or — when BUNDLE_DIR_ENV names a directory of esbuild
// bundles (clusters/vm/guest-bundle.ts makes one for the vm guest) — the bundled twin <dir>/<name>.mjs,
// which spares the child tsx and the loading of many modules.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A directory holding <name>.mjs for each entry script <name>.ts, and support.mjs for cucumber-js. */
export const BUNDLE_DIR_ENV = 'MULTUS_E2E_BUNDLE_DIR';
/** cucumber-js's support code (world, parameter types, hooks, steps) in that directory. */
export const SUPPORT_BUNDLE = 'support.mjs';

/** The bundle file of an entry script: its basename with .mjs. */
export function bundledName(tsFile: string): string {
  return `${basename(tsFile, '.ts')}.mjs`;
}

/** The script to run and the Node options it needs. */
export function nodeScript(tsUrl: URL): { script: string; execArgv: string[] } {
  const ts = fileURLToPath(tsUrl);
  const dir = process.env[BUNDLE_DIR_ENV];
  if (!dir) return { script: ts, execArgv: ['--import', 'tsx'] };
  const script = join(dir, bundledName(ts));
  if (!existsSync(script)) throw new Error(`${BUNDLE_DIR_ENV}=${dir} has no ${bundledName(ts)} (the bundle of ${ts})`);
  return { script, execArgv: [] };
}
