// `multus-e2e repro` and `multus-e2e collect`: the command-line side of repro/ (its plugin build and
// work-dir locks); what they do is in repro/command.ts.
import type { PluginUnderTest } from '../clusters/provider.ts';
import { collectCommand, reproCommand, type ReproHooks } from '../repro/command.ts';
import { defaultWorkDir } from './args.ts';
import { PACKAGE_ROOT } from './paths.ts';
import { ensurePlugin } from './plugin.ts';
import type { CollectCommand, ReproCommand } from './repro-args.ts';

type Owning = (workDir: string, fn: () => Promise<number>) => Promise<number>;

function hooks(progress: (line: string) => void, owning: Owning): ReproHooks {
  return { progress, owning, ensurePlugin: (plugin: PluginUnderTest) => ensurePlugin(plugin, progress) };
}

export function reproCliCommand(cmd: ReproCommand, progress: (line: string) => void, owning: Owning): Promise<number> {
  return reproCommand({ ...cmd, workDirOf: defaultWorkDir, packageRoot: PACKAGE_ROOT }, hooks(progress, owning));
}

export function collectCliCommand(cmd: CollectCommand, progress: (line: string) => void, owning: Owning): Promise<number> {
  return owning(cmd.workDir, () => collectCommand(cmd, hooks(progress, owning)));
}
