// Makes sure the plugin under test exists before a cluster is built around it.
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { PluginUnderTest } from '../clusters/provider.ts';
import { BUNDLED_DAEMON, BUNDLED_PLUGIN, BUNDLED_SHIM, PACKAGE_ROOT, bundledMode } from './paths.ts';
import { runInherited } from './child-process.ts';

function ensureExecutable(file: string): void {
  if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`--plugin ${file}: no such file`);
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new Error(`--plugin ${file}: not executable (chmod +x it)`);
  }
}

export async function ensurePlugin(plugin: PluginUnderTest, progress: (line: string) => void): Promise<void> {
  if (plugin.kind === 'thin') return ensureExecutable(plugin.path);
  if (plugin.kind === 'thick' && bundledMode(plugin) === undefined) {
    ensureExecutable(plugin.shim);
    return ensureExecutable(plugin.daemon);
  }
  const reason = bundledPluginBuildReason();
  if (reason === undefined) return;
  progress(`building the bundled plugin (npm run build): ${reason} …`);
  const code = await runInherited('npm', ['run', 'build']);
  if (code !== 0 || !existsSync(BUNDLED_PLUGIN)) throw new Error(`building the bundled plugin failed (npm run build exited ${code}); ${BUNDLED_PLUGIN} is missing`);
}

/** Newest modification time of the plugin's sources (everything under plugin/ except its build output). */
function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'dist' && entry.name !== 'node_modules') newest = Math.max(newest, newestSourceMtime(full));
    } else if (!entry.name.includes('.test.')) {
      newest = Math.max(newest, statSync(full).mtimeMs);
    }
  }
  return newest;
}

/** Why the bundled plugin must be (re)built, or undefined when the build is current. */
export function bundledPluginBuildReason(): string | undefined {
  for (const file of [BUNDLED_PLUGIN, BUNDLED_SHIM, BUNDLED_DAEMON]) if (!existsSync(file)) return `${file} is missing`;
  // A build older than its sources would test yesterday's plugin.
  if (newestSourceMtime(path.join(PACKAGE_ROOT, 'plugin')) > statSync(BUNDLED_PLUGIN).mtimeMs) return 'its sources changed since the last build';
  return undefined;
}
