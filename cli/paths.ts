// Where the package lives, so the CLI works from any working directory.
import { rmdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginUnderTest } from '../clusters/provider.ts';
import { WORK_ROOT } from './args.ts';

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLED_PLUGIN = path.join(PACKAGE_ROOT, 'plugin', 'dist', 'multus');
/** The bundled plugin's thick mode (--plugin bundled-thick): the CNI binary and the per-node daemon. */
export const BUNDLED_SHIM = path.join(PACKAGE_ROOT, 'plugin', 'dist', 'multus-shim');
export const BUNDLED_DAEMON = path.join(PACKAGE_ROOT, 'plugin', 'dist', 'multus-daemon');

/** The mode of the bundled plugin when it is the plugin under test; undefined for any other build. */
export function bundledMode(plugin: PluginUnderTest): 'thin' | 'thick' | undefined {
  if (plugin.kind === 'bundled') return 'thin';
  return plugin.kind === 'thick' && plugin.shim === BUNDLED_SHIM && plugin.daemon === BUNDLED_DAEMON ? 'thick' : undefined;
}

export const CUCUMBER_BIN = path.join(PACKAGE_ROOT, 'node_modules', '@cucumber', 'cucumber', 'bin', 'cucumber.js');
// Relative to PACKAGE_ROOT (the cwd of every cucumber call): cucumber-js mis-joins absolute config paths.
export const CUCUMBER_CONFIG = 'cucumber.mjs';
export const ALLURE_BIN = path.join(PACKAGE_ROOT, 'node_modules', 'allure', 'cli.js');

/** Removes the default work root once no cluster's work dir is left in it (it only ever holds those). */
export async function removeEmptyWorkRoot(): Promise<void> {
  await rmdir(WORK_ROOT).catch(() => undefined);
}
