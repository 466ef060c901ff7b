// `multus-e2e report`: renders the Allure 3 HTML report from the last run's allure-results.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { ReportCommand } from './args.ts';
import { ALLURE_BIN } from './paths.ts';
import { runInherited } from './child-process.ts';

export async function reportCommand(cmd: ReportCommand, progress: (line: string) => void): Promise<number> {
  const results = path.join(cmd.reportsDir, 'allure-results');
  if (!existsSync(results) || readdirSync(results).length === 0) {
    throw new Error(`no Allure results in ${results}: run "multus-e2e run" first (or pass --reports-dir)`);
  }
  progress(`rendering the Allure report from ${results} …`);
  const code = await runInherited(process.execPath, [ALLURE_BIN, 'generate', results, '--output', cmd.output, '--report-name', 'multus-e2e']);
  if (code !== 0) throw new Error(`allure generate exited ${code}`);
  progress(`Allure report: ${path.join(cmd.output, 'index.html')}`);
  return 0;
}
