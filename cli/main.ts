// Entry point of the multus-e2e command. Progress goes to stderr; stdout carries results (the run
// summary, the kubeconfig path) so they can be piped.
import path from 'node:path';
import { parseCommand, UsageError, type KindOptions } from './args.ts';
import { clusterCommand } from './cluster.ts';
import { compareCommand } from './compare.ts';
import { reportCommand } from './report.ts';
import { runCommand } from './run.ts';

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

async function main(argv: string[]): Promise<number> {
  const cmd = parseCommand(argv);
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'run':
      applyKindOptions(cmd.kindOptions, path.join(cmd.reportsDir, 'cluster-logs'));
      return runCommand(cmd, progress);
    case 'cluster':
      applyKindOptions(cmd.kindOptions);
      return clusterCommand(cmd, progress);
    case 'report':
      return reportCommand(cmd, progress);
    case 'compare':
      // Both runs share the kind settings.
      applyKindOptions(cmd.runs[0].kindOptions, path.join(cmd.reportsDir, 'cluster-logs'));
      return compareCommand(cmd, progress, (run) => runCommand(run, progress));
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
