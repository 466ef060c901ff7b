// Entry point of the multus-e2e command. Progress goes to stderr; stdout carries results (the run
// summary, the kubeconfig path) so they can be piped.
import { parseCommand, UsageError } from './args.ts';
import { clusterCommand } from './cluster.ts';
import { reportCommand } from './report.ts';
import { runCommand } from './run.ts';

const progress = (line: string) => process.stderr.write(`[multus-e2e ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(argv: string[]): Promise<number> {
  const cmd = parseCommand(argv);
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'run':
      return runCommand(cmd, progress);
    case 'cluster':
      return clusterCommand(cmd, progress);
    case 'report':
      return reportCommand(cmd, progress);
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
