// `multus-e2e report`: renders the Allure 3 HTML report from the last run's allure-results; with
// --baseline, first compares the last run with an earlier one (verdicts, latency per environment).
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { comparisonPassed, compareRuns, formatComparison, readRunSnapshot, renderComparisonHtml } from '../reports/comparison.ts';
import type { ReportCommand } from './args.ts';
import { ALLURE_BIN } from './paths.ts';
import { runInherited } from './child-process.ts';

type Progress = (line: string) => void;

/** Writes DIR/baseline.json and DIR/baseline.html; resolves true when the last run did not regress (and both runs completed). */
async function baselineComparison(cmd: ReportCommand & { baseline: string }, progress: Progress): Promise<boolean> {
  progress(`comparing ${cmd.reportsDir} with the baseline ${cmd.baseline} …`);
  const comparison = compareRuns(readRunSnapshot(cmd.baseline, 'baseline'), readRunSnapshot(cmd.reportsDir, 'this run'), { maxLatencyRegression: cmd.maxLatencyRegression });
  const json = path.join(cmd.reportsDir, 'baseline.json');
  const html = path.join(cmd.reportsDir, 'baseline.html');
  await writeFile(json, `${JSON.stringify(comparison, null, 2)}\n`);
  await writeFile(html, renderComparisonHtml(comparison, 'multus-e2e: this run against its baseline'));
  process.stdout.write(`${formatComparison(comparison)}\n`);
  progress(`baseline comparison: ${html} (${json})`);
  return comparisonPassed(comparison);
}

export async function reportCommand(cmd: ReportCommand, progress: Progress): Promise<number> {
  const noRegression = cmd.baseline ? await baselineComparison({ ...cmd, baseline: cmd.baseline }, progress) : true;
  const results = path.join(cmd.reportsDir, 'allure-results');
  if (!existsSync(results) || readdirSync(results).length === 0) {
    if (cmd.baseline) {
      progress(`no Allure results in ${results}: skipping the Allure report`);
      return noRegression ? 0 : 1;
    }
    throw new Error(`no Allure results in ${results}: run "multus-e2e run" first (or pass --reports-dir)`);
  }
  progress(`rendering the Allure report from ${results} …`);
  const code = await runInherited(process.execPath, [ALLURE_BIN, 'generate', results, '--output', cmd.output, '--report-name', 'multus-e2e']);
  if (code !== 0) throw new Error(`allure generate exited ${code}`);
  progress(`Allure report: ${path.join(cmd.output, 'index.html')}`);
  return noRegression ? 0 : 1;
}
