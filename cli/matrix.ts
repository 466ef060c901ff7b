// `multus-e2e compare --control-plane A --control-plane B …`: the same scenarios on each control plane in
// turn, each on a fresh cluster with its own reports dir, then all of them side by side in DIR/matrix.json
// and DIR/matrix.html. Exit 0 when every run completed and every scenario has the same verdict everywhere.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readRunSnapshot } from '../reports/comparison.ts';
import { buildMatrix, formatMatrix, matrixPassed, renderMatrixHtml } from '../reports/matrix.ts';
import type { MatrixCommand } from './args.ts';
import type { RunOneSide } from './compare.ts';

type Progress = (line: string) => void;

export async function matrixCommand(cmd: MatrixCommand, progress: Progress, runOne: RunOneSide): Promise<number> {
  const started = Date.now();
  const codes: number[] = [];
  for (const [i, { label, run }] of cmd.entries.entries()) {
    progress(`matrix ${i + 1}/${cmd.entries.length}: control plane ${label} on cluster "${run.name}", reports in ${run.reportsDir} …`);
    const t0 = Date.now();
    // A failed run still leaves its reports; they go into the matrix as they are.
    const code = await runOne(run).catch((err: Error) => {
      progress(`matrix: run ${label} failed: ${err.message}`);
      return 1;
    });
    codes.push(code);
    progress(`matrix ${i + 1}/${cmd.entries.length}: ${label} finished in ${((Date.now() - t0) / 1000).toFixed(0)} s (exit ${code})`);
  }
  const snapshots = cmd.entries.map(({ label, run }, i) => {
    try {
      return { ...readRunSnapshot(run.reportsDir, label), exitCode: codes[i]! };
    } catch (err) {
      // A run that crashed before writing its summary still gets its column, marked incomplete.
      return {
        label, dir: run.reportsDir, build: 'unknown build', plugin: 'unknown', results: [], latency: [], ignoredLatencyRecords: 0,
        problems: [(err as Error).message], expectedFailures: {}, exitCode: codes[i]!,
      };
    }
  });
  const matrix = buildMatrix(snapshots);
  await mkdir(cmd.reportsDir, { recursive: true });
  const json = path.join(cmd.reportsDir, 'matrix.json');
  const html = path.join(cmd.reportsDir, 'matrix.html');
  await writeFile(json, `${JSON.stringify(matrix, null, 2)}\n`);
  await writeFile(html, renderMatrixHtml(matrix, `multus-e2e control plane matrix: ${matrix.columns.map((c) => c.label).join(', ')}`));
  process.stdout.write(`${formatMatrix(matrix)}\n`);
  progress(`matrix: done in ${((Date.now() - started) / 1000).toFixed(0)} s; ${html} (${json})`);
  return matrixPassed(matrix) ? 0 : 1;
}
