// Entry point of the multus-e2e command. Progress goes to stderr; stdout carries results (the run
// summary, the kubeconfig path) so they can be piped.
import path from 'node:path';
import { parseCommand, UsageError, type KindOptions } from './args.ts';
import { removeEmptyWorkRoot } from './paths.ts';
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

// Each command's module is loaded when that command runs: run and compare import cucumber-js, which
// alone took ~9.5 s to load in the vm guest (`import('@cucumber/cucumber/api')`, 2026-12-02), and
// certify runs there without it.
async function main(argv: string[]): Promise<number> {
  const cmd = parseCommand(argv);
  const run = async (c: Parameters<typeof import('./run.ts').runCommand>[0]) => (await import('./run.ts')).runCommand(c, progress);
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'run':
      applyKindOptions(cmd.kindOptions, path.join(cmd.reportsDir, 'cluster-logs'));
      return owningWorkDir(cmd.workDir, argv, () => run(cmd));
    case 'cluster':
      applyKindOptions(cmd.kindOptions);
      return owningWorkDir(cmd.workDir, argv, async () => (await import('./cluster.ts')).clusterCommand(cmd, progress));
    case 'report':
      return (await import('./report.ts')).reportCommand(cmd, progress);
    case 'compare':
      // Both runs share the kind settings; each holds its own cluster's work-dir lock while it runs.
      applyKindOptions(cmd.runs[0].kindOptions, path.join(cmd.reportsDir, 'cluster-logs'));
      return (await import('./compare.ts')).compareCommand(cmd, progress, (r) => owningWorkDir(r.workDir, argv, () => run(r)));
    case 'matrix':
      return (await import('./matrix.ts')).matrixCommand(cmd, progress, (r) => owningWorkDir(r.workDir, argv, () => run(r)));
    case 'repro':
      return (await import('./repro.ts')).reproCliCommand(cmd, progress, (workDir, fn) => owningWorkDir(workDir, argv, fn));
    case 'collect':
      return (await import('./repro.ts')).collectCliCommand(cmd, progress, (workDir, fn) => owningWorkDir(workDir, argv, fn));
    case 'stress':
      return owningWorkDir(cmd.workDir, argv, async () => (await import('./stress.ts')).stressCommand(cmd, progress));
    case 'certify':
      return (await import('./certify.ts')).certifyCommand(cmd, progress);
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
