// Makes sure the plugin under test exists before a cluster is built around it.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import type { PluginUnderTest } from '../clusters/provider.ts';
import { BUNDLED_PLUGIN, PACKAGE_ROOT } from './paths.ts';

export async function ensurePlugin(plugin: PluginUnderTest, progress: (line: string) => void): Promise<void> {
  if (plugin.kind === 'path') {
    if (!existsSync(plugin.path) || !statSync(plugin.path).isFile()) throw new Error(`--plugin ${plugin.path}: no such file`);
    try {
      accessSync(plugin.path, constants.X_OK);
    } catch {
      throw new Error(`--plugin ${plugin.path}: not executable (chmod +x it)`);
    }
    return;
  }
  if (existsSync(BUNDLED_PLUGIN)) return;
  progress('building the bundled plugin (npm run build) …');
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('npm', ['run', 'build'], { cwd: PACKAGE_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (c) => resolve(c ?? 1));
  });
  if (code !== 0 || !existsSync(BUNDLED_PLUGIN)) throw new Error(`building the bundled plugin failed (npm run build exited ${code}); ${BUNDLED_PLUGIN} is missing`);
}
