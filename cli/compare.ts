// `multus-e2e compare --plugin A --plugin B`: the same scenarios for A, then for B, each on a fresh cluster
// of its own with its own reports dir (DIR/a, DIR/b), then the two side by side in DIR/compare.json and
// DIR/compare.html. Exit 0 when B did not regress against A and both runs completed.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadExpectations } from '../expectations/expectations.ts';
import { comparisonPassed, compareRuns, formatComparison, readRunSnapshot, renderComparisonHtml } from '../reports/comparison.ts';
import { pluginLabel } from '../reports/latency.ts';
import type { CompareCommand, RunCommand } from './args.ts';
import { suiteIndex } from './cucumber.ts';
import { PACKAGE_ROOT } from './paths.ts';

type Progress = (line: string) => void;

/** Runs one side (main.ts wraps runCommand with the cluster's work-dir lock); resolves its exit code. */
export type RunOneSide = (run: RunCommand) => Promise<number>;

export async function compareCommand(cmd: CompareCommand, progress: Progress, runSide: RunOneSide): Promise<number> {
  const labels = ['A', 'B'] as const;
  const started = Date.now();
  // Both expectation files are checked before A's run, not after it.
  const suite = await suiteIndex();
  for (const run of cmd.runs) if (run.expect) loadExpectations(run.expect, suite, PACKAGE_ROOT);
  const codes: number[] = [];
  for (const [i, run] of cmd.runs.entries()) {
    const label = labels[i]!;
    progress(`compare ${i + 1}/2: running ${label} (plugin ${pluginLabel(run.plugin)}) on cluster "${run.name}", reports in ${run.reportsDir} …`);
    const t0 = Date.now();
    // A failed run still leaves its reports; comparing them is the point.
    const code = await runSide(run).catch((err: Error) => {
      progress(`compare: run ${label} failed: ${err.message}`);
      return 1;
    });
    codes.push(code);
    progress(`compare ${i + 1}/2: ${label} finished in ${((Date.now() - t0) / 1000).toFixed(0)} s (exit ${code})`);
  }
  progress('compare: comparing verdicts and latency …');
  const [a, b] = cmd.runs.map((run, i) => readRunSnapshot(run.reportsDir, labels[i]!)) as [ReturnType<typeof readRunSnapshot>, ReturnType<typeof readRunSnapshot>];
  const comparison = compareRuns(a, b, { maxLatencyRegression: cmd.maxLatencyRegression });
  await mkdir(cmd.reportsDir, { recursive: true });
  const json = path.join(cmd.reportsDir, 'compare.json');
  const html = path.join(cmd.reportsDir, 'compare.html');
  await writeFile(json, `${JSON.stringify({ ...comparison, exitCodes: { a: codes[0], b: codes[1] } }, null, 2)}\n`);
  await writeFile(html, renderComparisonHtml(comparison, `multus-e2e compare: ${a.build} (A) vs ${b.build} (B)`));
  process.stdout.write(`${formatComparison(comparison)}\n`);
  progress(`compare: done in ${((Date.now() - started) / 1000).toFixed(0)} s; ${html} (${json})`);
  return comparisonPassed(comparison) ? 0 : 1;
}
