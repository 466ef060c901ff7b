// Entry point of the multus-e2e command. Progress goes to stderr; stdout carries results (the run
// summary, the kubeconfig path) so they can be piped.
import path from 'node:path';
import { parseCommand, UsageError, type KindOptions } from './args.ts';
import { certifyCommand } from './certify.ts';
import { clusterCommand } from './cluster.ts';
import { compareCommand } from './compare.ts';
import { matrixCommand } from './matrix.ts';
import { removeEmptyWorkRoot } from './paths.ts';
import { reportCommand } from './report.ts';
import { collectCliCommand, reproCliCommand } from './repro.ts';
import { runCommand } from './run.ts';
import { stressCommand } from './stress.ts';
import { lockWorkDir } from './work-dir-lock.ts';

const progress = (line: string) => process.stderr.write(`[multus-e2e ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/**
 * The kind provider reads its settings from MULTUS_E2E_KIND_* variables (so the cucumber child process
 * sees the same ones); command-line flags win over them.
 */
function applyKindOptions(options: KindOptions, failureLogsDir?: string): void {
  if (options.image) process.env.MULTUS_E2E_KIND_IMAGE = options.image;
  if (options.pluginImage) process.env.MULTUS_E2E_PLUGIN_IMAGE = options.pluginImage;
  if (failureLogsDir) process.env.MULTUS_E2E_KIND_FAILURE_LOGS_DIR ??= failureLogsDir;
}

/** Runs a command that uses a cluster's work dir while holding that dir's lock (one command per work dir). */
async function owningWorkDir(workDir: string, argv: string[], command: () => Promise<number>): Promise<number> {
  const release = lockWorkDir(workDir, ['multus-e2e', ...argv].join(' '), (stale) =>
    progress(`taking over the lock of ${workDir} from pid ${stale.pid} (${stale.command}), which is gone`));
  try {
    return await command();
  } finally {
    release();
    await removeEmptyWorkRoot();
  }
}

async function main(argv: string[]): Promise<number> {
  const cmd = parseCommand(argv);
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'run':
      applyKindOptions(cmd.kindOptions, path.join(cmd.reportsDir, 'cluster-logs'));
      return owningWorkDir(cmd.workDir, argv, () => runCommand(cmd, progress));
    case 'cluster':
      applyKindOptions(cmd.kindOptions);
      return owningWorkDir(cmd.workDir, argv, () => clusterCommand(cmd, progress));
    case 'report':
      return reportCommand(cmd, progress);
    case 'compare':
      // Both runs share the kind settings; each holds its own cluster's work-dir lock while it runs.
      applyKindOptions(cmd.runs[0].kindOptions, path.join(cmd.reportsDir, 'cluster-logs'));
      return compareCommand(cmd, progress, (run) => owningWorkDir(run.workDir, argv, () => runCommand(run, progress)));
    case 'matrix':
      return matrixCommand(cmd, progress, (run) => owningWorkDir(run.workDir, argv, () => runCommand(run, progress)));
    case 'repro':
      return reproCliCommand(cmd, progress, (workDir, fn) => owningWorkDir(workDir, argv, fn));
    case 'collect':
      return collectCliCommand(cmd, progress, (workDir, fn) => owningWorkDir(workDir, argv, fn));
    case 'stress':
      return owningWorkDir(cmd.workDir, argv, () => stressCommand(cmd, progress));
    case 'certify':
      return certifyCommand(cmd, progress);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`multus-e2e: ${err.message}\n\n${err.help}`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`multus-e2e: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
