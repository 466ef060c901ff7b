// Several runs of the same scenarios side by side, one column per run (`multus-e2e compare
// --control-plane A --control-plane B …`: one column per control plane / Kubernetes version). Each run
// keeps its own verdicts and its own CNI latency figures per environment; nothing is pooled across runs.
// The matrix passes when every run completed and every scenario has the same verdict in every column.
import { ENVIRONMENTS, escapeHtml, type Environment } from './latency.ts';
import { VERDICT_TABLE_CSS, fmtFigures, levelLabel, levelRank, machineDescription, verdictOf, whyNotPassed, type LatencyFigures, type RunSnapshot, type Verdict } from './comparison.ts';
import { scenarioId } from './summary.ts';

export interface MatrixColumn {
  label: string;
  dir: string;
  build: string;
  /** How the run ended (its exit code), when known. */
  exitCode?: number;
}

export interface MatrixScenario {
  scenario: string;
  level: string;
  /** One per column, in column order; null: the run has no result for it. */
  verdicts: (Verdict | null)[];
  /** Why it failed or was skipped, per column. */
  why: (string | null)[];
  /** Not the same verdict in every column. */
  differs: boolean;
}

export interface MatrixLatency {
  environment: Environment;
  op: string;
  /** One per column, in column order. */
  figures: (LatencyFigures | null)[];
}

export interface Matrix {
  columns: MatrixColumn[];
  date: string;
  machine: string;
  scenarios: MatrixScenario[];
  latency: MatrixLatency[];
  /** Scenarios whose verdict is not the same in every column. */
  differences: string[];
  /** Runs that did not complete (or ran nothing); non-empty fails the matrix too. */
  incomplete: string[];
  notes: string[];
}

export function buildMatrix(runs: readonly (RunSnapshot & { exitCode?: number })[], options: { date?: Date; machine?: string } = {}): Matrix {
  const byId = runs.map((r) => new Map(r.results.map((x) => [scenarioId(x), x])));
  const ids = [...new Set(byId.flatMap((m) => [...m.keys()]))];
  const scenarios = ids.map((scenario): MatrixScenario => {
    const results = byId.map((m) => m.get(scenario));
    const verdicts = results.map((r) => (r ? verdictOf(r) : null));
    return {
      scenario, level: levelLabel(results.find((r) => r)?.tags ?? []), verdicts,
      why: results.map((r) => (r ? whyNotPassed(r) ?? null : null)),
      differs: new Set(verdicts).size > 1,
    };
  }).sort((x, y) => levelRank(x.level) - levelRank(y.level) || x.level.localeCompare(y.level) || x.scenario.localeCompare(y.scenario));

  const key = (environment: Environment, op: string) => `${environment} ${op}`;
  const perRun = runs.map((r) => new Map(r.latency.map((s) => [key(s.environment, s.op), s])));
  const groups = new Map(runs.flatMap((r) => r.latency.map((s) => [key(s.environment, s.op), { environment: s.environment, op: s.op }] as const)));
  const latency = [...groups.values()]
    .sort((x, y) => ENVIRONMENTS.indexOf(x.environment) - ENVIRONMENTS.indexOf(y.environment) || x.op.localeCompare(y.op))
    .map(({ environment, op }): MatrixLatency => ({
      environment, op,
      figures: perRun.map((m) => {
        const s = m.get(key(environment, op));
        return s && s.n > 0 ? { n: s.n, p50: s.p50, p95: s.p95 } : null;
      }),
    }))
    .filter((l) => l.figures.some((f) => f !== null));

  const differences = scenarios.filter((s) => s.differs)
    .map((s) => `${s.scenario} [${s.level}]: ${s.verdicts.map((v, i) => `${runs[i]!.label} ${v ?? 'not run'}`).join(', ')}`);
  const incomplete = runs.flatMap((r) => [
    ...r.problems.map((p) => `${r.label}: ${p}`),
    ...(r.results.length === 0 ? [`${r.label}: no scenario has a result`] : []),
  ]);
  const notes = runs.filter((r) => r.ignoredLatencyRecords > 0)
    .map((r) => `${r.label}: ${r.ignoredLatencyRecords} latency records without an environment (older report) were left out`);
  return {
    columns: runs.map((r) => ({ label: r.label, dir: r.dir, build: r.build, ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}) })),
    date: (options.date ?? new Date()).toISOString(), machine: options.machine ?? machineDescription(),
    scenarios, latency, differences, incomplete, notes,
  };
}

export function matrixPassed(m: Matrix): boolean {
  return m.differences.length === 0 && m.incomplete.length === 0;
}

const count = (m: Matrix, i: number, v: Verdict) => m.scenarios.filter((s) => s.verdicts[i] === v).length;

/** The terminal view: per column its counts, the differing scenarios, the latency per column. */
export function formatMatrix(m: Matrix): string {
  const lines = ['', `Control planes: ${m.columns.map((c, i) => `${c.label} (${count(m, i, 'passed')} passed, ${count(m, i, 'failed')} failed, ${count(m, i, 'skipped')} skipped)`).join('; ')}`];
  lines.push(`Scenarios: ${m.scenarios.length}, ${m.differences.length} with different verdicts`);
  for (const d of m.differences) lines.push(`  ${d}`);
  lines.push('CNI latency per environment and control plane:');
  for (const l of m.latency) {
    lines.push(`  ${l.environment.padEnd(4)} ${l.op.padEnd(6)} ${l.figures.map((f, i) => `${m.columns[i]!.label}: ${fmtFigures(f)}`).join('   ')}`);
  }
  for (const n of m.notes) lines.push(`note: ${n}`);
  if (m.incomplete.length > 0) lines.push(`The matrix is incomplete:\n${m.incomplete.map((r) => `  - ${r}`).join('\n')}`);
  if (matrixPassed(m)) lines.push(`Every scenario has the same verdict on ${m.columns.map((c) => c.label).join(', ')}.`);
  return lines.join('\n');
}

const VERDICT_CLASS: Record<Verdict, string> = { passed: 'pass', failed: 'fail', skipped: 'skip' };

export function renderMatrixHtml(m: Matrix, title: string): string {
  const head = m.columns.map((c) => `<th>${escapeHtml(c.label)}</th>`).join('');
  const scenarioRows = m.scenarios.map((s) => `<tr class="${s.differs ? 'changed' : ''}"><td>${escapeHtml(s.level)}</td><td class="name">${escapeHtml(s.scenario)}</td>` +
    s.verdicts.map((v, i) => (v ? `<td class="${VERDICT_CLASS[v]}">${v}${s.why[i] ? `<div class="why">${escapeHtml(s.why[i]!)}</div>` : ''}</td>` : '<td class="none">not run</td>')).join('') +
    '</tr>').join('\n');
  const latencyRows = m.latency.map((l) => `<tr><td>${l.environment}</td><td>${escapeHtml(l.op)}</td>` +
    l.figures.map((f) => (f ? `<td>${f.n}</td><td>${f.p50}</td><td>${f.p95}</td>` : '<td>–</td><td>–</td><td>–</td>')).join('') + '</tr>').join('\n');
  const list = (items: readonly string[]) => `<ul>${items.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>`;
  const verdict = matrixPassed(m)
    ? '<p class="verdict ok">Every scenario has the same verdict on every control plane.</p>'
    : `<div class="verdict bad">${m.differences.length > 0 ? `<p>Different verdicts:</p>${list(m.differences)}` : ''}` +
      `${m.incomplete.length > 0 ? `<p>The matrix is incomplete:</p>${list(m.incomplete)}` : ''}</div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}
${VERDICT_TABLE_CSS}
tr.changed{background:#fff6d6}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<dl>
${m.columns.map((c, i) => `<dt>${escapeHtml(c.label)}</dt><dd>${escapeHtml(c.build)} (${count(m, i, 'passed')} passed, ${count(m, i, 'failed')} failed, ${count(m, i, 'skipped')} skipped${c.exitCode !== undefined ? `; exit ${c.exitCode}` : ''}; reports ${escapeHtml(c.dir)})</dd>`).join('\n')}
<dt>date</dt><dd>${escapeHtml(m.date)}</dd>
<dt>machine</dt><dd>${escapeHtml(m.machine)}</dd>
</dl>
${verdict}
${m.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}
<h2>CNI latency per environment</h2>
<p>Milliseconds of wall time per CNI call as the container runtime saw it, per control plane (each its own run, never pooled).</p>
<table><tr><th rowspan="2">environment</th><th rowspan="2">op</th>${m.columns.map((c) => `<th colspan="3">${escapeHtml(c.label)}</th>`).join('')}</tr>
<tr>${m.columns.map(() => '<th>n</th><th>p50</th><th>p95</th>').join('')}</tr>
${latencyRows || `<tr><td colspan="${2 + 3 * m.columns.length}">no CNI calls recorded</td></tr>`}
</table>
<h2>Scenarios</h2>
<p>Yellow rows: not the same verdict everywhere.</p>
<table><tr><th>level</th><th>scenario</th>${head}</tr>
${scenarioRows}
</table>
</body></html>
`;
}
