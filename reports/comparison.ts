// Two runs side by side: per scenario verdicts (with level) and per environment + op CNI latency (p50/p95
// and the ratio B/A). `multus-e2e compare` puts two plugins against each other, `multus-e2e report
// --baseline` the last run against an earlier one; both read the runs' reports dirs through here.
// Latency is compared per environment only (host, vm guest, kind), never pooled across them.
import { existsSync, readFileSync } from 'node:fs';
import { cpus, hostname, release } from 'node:os';
import path from 'node:path';
import type { ExpectationMatch } from '../expectations/expectations.ts';
import { levelOf, type ConformanceReport } from './conformance.ts';
import { ENVIRONMENTS, escapeHtml, summarizeByGroup, type Environment, type LatencyReport, type LatencySummary } from './latency.ts';
import { scenarioId, scenarioOk, type ScenarioResult, type SummaryFile } from './summary.ts';

/** Styles of a verdict table and its verdict banner, shared by the comparison and matrix pages. */
export const VERDICT_TABLE_CSS = `table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}th{background:#f3f3f3}\ntd.name{max-width:560px}td .why{font-weight:normal;color:#555;font-size:12px;max-width:320px}.pass{color:#176f2c}.fail{color:#b00020;font-weight:bold}.skip{color:#8a6d00}.none{color:#888}\n.verdict{padding:8px 12px;border-radius:4px}.ok{background:#d4f4dd}.bad{background:#fde2e4}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:bold}`;

export type Verdict = 'passed' | 'failed' | 'skipped';

/** What a reports dir holds that a comparison needs. */
export interface RunSnapshot {
  /** "A", "B", "baseline", "this run" … */
  label: string;
  dir: string;
  build: string;
  plugin: string;
  results: ScenarioResult[];
  latency: LatencySummary[];
  /** Latency records written before they carried their environment, left out rather than pooled. */
  ignoredLatencyRecords: number;
  /** What went wrong in the run besides scenario verdicts (a crash, scenarios without a result). */
  problems: string[];
  /** Scenario id → class, for the failures the run's expectation file (--expect) listed and saw. */
  expectedFailures: Record<string, string>;
}

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Reads summary.json, latency.json and (when present) conformance.json of a `multus-e2e run` reports dir. */
export function readRunSnapshot(dir: string, label: string): RunSnapshot {
  const summaryPath = path.join(dir, 'summary.json');
  if (!existsSync(summaryPath)) throw new Error(`${dir} holds no summary.json: is it the --reports-dir of a "multus-e2e run"?`);
  const summary = readJson<SummaryFile & { problems?: string[] }>(summaryPath);
  const latencyPath = path.join(dir, 'latency.json');
  const runs = existsSync(latencyPath) ? readJson<Partial<LatencyReport>>(latencyPath).runs ?? [] : [];
  const located = runs.filter((r) => (ENVIRONMENTS as readonly (string | undefined)[]).includes(r.environment));
  const conformancePath = path.join(dir, 'conformance.json');
  const conformance = existsSync(conformancePath) ? readJson<Partial<ConformanceReport> & { expectations?: ExpectationMatch }>(conformancePath) : {};
  const plugin = conformance.plugin ?? [...new Set(located.map((r) => r.plugin))].join(', ');
  return {
    label, dir, build: conformance.build ?? (plugin || 'unknown build'), plugin: plugin || 'unknown',
    results: summary.scenarios ?? [], latency: summarizeByGroup(located), ignoredLatencyRecords: runs.length - located.length,
    problems: summary.problems ?? [],
    expectedFailures: Object.fromEntries((conformance.expectations?.expectedFailures ?? []).map((e) => [e.scenario, e.class])),
  };
}

export interface ScenarioComparison {
  scenario: string;
  level: string;
  a: Verdict | null;
  b: Verdict | null;
  /** Passed in A, failed in B. */
  regression: boolean;
  /** Why it failed or was skipped, per side (the first line of the failure, or the skip reason). */
  aWhy?: string;
  bWhy?: string;
  /** The class (upstream-bug, quality, unsupported) when B's expectation file lists this failure: still a regression against A, but a known one. */
  bExpected?: string;
}

export interface LatencyFigures {
  n: number;
  p50: number;
  p95: number;
}

export interface OpComparison {
  environment: Environment;
  op: string;
  a: LatencyFigures | null;
  b: LatencyFigures | null;
  /** B/A, null when either side has no calls. */
  p50Ratio: number | null;
  p95Ratio: number | null;
  /** Too few calls on one side to judge the p50 (shown, not judged). */
  tooFewCalls: boolean;
  regression: boolean;
}

export interface RunSide {
  label: string;
  dir: string;
  build: string;
  plugin: string;
}

export interface Comparison {
  a: RunSide;
  b: RunSide;
  date: string;
  machine: string;
  /** B's p50 may exceed A's by this fraction (0.25: up to 1.25×) before it counts as a regression. */
  maxLatencyRegression: number;
  scenarios: ScenarioComparison[];
  latency: OpComparison[];
  /** Empty when B did not regress against A. */
  regressions: string[];
  /** A run that did not complete (or ran nothing) cannot show the absence of a regression; non-empty fails the comparison too. */
  incomplete: string[];
  notes: string[];
}

/** Below this many calls on either side a p50 says too little to fail a comparison on. */
export const MIN_CALLS_TO_JUDGE = 5;

export const verdictOf = (r: ScenarioResult): Verdict => (r.status === 'PASSED' ? 'passed' : r.status === 'SKIPPED' && scenarioOk(r) ? 'skipped' : 'failed');

export function levelLabel(tags: readonly string[]): string {
  const found = levelOf(tags);
  return 'level' in found ? found.level : 'no level';
}

const WHY_MAX = 240;

/** The skip reason, or the failure's first two lines without the assertion's class name (often "…:" then the detail). */
export function whyNotPassed(r: ScenarioResult): string | undefined {
  if (r.status === 'PASSED') return undefined;
  if (r.reason) return r.reason;
  const lines = (r.error ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const why = lines.length > 0 ? lines.slice(0, 2).join(' ').replace(/^AssertionError \[ERR_ASSERTION\]: /, '') : r.status;
  // The whole message is in the run's own reports; a table cell shows the start.
  return why.length > WHY_MAX ? `${why.slice(0, WHY_MAX - 1)}…` : why;
}

/** core, extended:* (by feature), quality, then scenarios without a level. */
export const levelRank = (level: string): number => (level === 'core' ? 0 : level.startsWith('extended:') ? 1 : level === 'quality' ? 2 : 3);

const ratio = (b: number, a: number): number | null => (a > 0 ? Math.round((b / a) * 100) / 100 : null);

export function machineDescription(): string {
  const cpu = cpus();
  return `${hostname()} (Linux ${release()}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'})`;
}

export function compareRuns(a: RunSnapshot, b: RunSnapshot, options: { maxLatencyRegression: number; date?: Date; machine?: string }): Comparison {
  const aById = new Map(a.results.map((r) => [scenarioId(r), r]));
  const bById = new Map(b.results.map((r) => [scenarioId(r), r]));
  const ids = [...new Set([...aById.keys(), ...bById.keys()])].sort();
  const scenarios = ids.map((scenario): ScenarioComparison => {
    const ra = aById.get(scenario);
    const rb = bById.get(scenario);
    const va = ra ? verdictOf(ra) : null;
    const vb = rb ? verdictOf(rb) : null;
    const aWhy = ra ? whyNotPassed(ra) : undefined;
    const bWhy = rb ? whyNotPassed(rb) : undefined;
    const bExpected = vb === 'failed' ? b.expectedFailures[scenario] : undefined;
    return {
      scenario, level: levelLabel((ra ?? rb)?.tags ?? []), a: va, b: vb, regression: va === 'passed' && vb === 'failed',
      ...(aWhy ? { aWhy } : {}), ...(bWhy ? { bWhy } : {}), ...(bExpected ? { bExpected } : {}),
    };
  });

  const key = (s: { environment: Environment; op: string }) => `${s.environment} ${s.op}`;
  const figures = (s: LatencySummary | undefined): LatencyFigures | null => (s && s.n > 0 ? { n: s.n, p50: s.p50, p95: s.p95 } : null);
  const aLat = new Map(a.latency.map((s) => [key(s), s]));
  const bLat = new Map(b.latency.map((s) => [key(s), s]));
  const latency = [...new Map([...a.latency, ...b.latency].map((s) => [key(s), { environment: s.environment, op: s.op }])).values()]
    .sort((x, y) => ENVIRONMENTS.indexOf(x.environment) - ENVIRONMENTS.indexOf(y.environment) || x.op.localeCompare(y.op))
    .map(({ environment, op }): OpComparison => {
      const fa = figures(aLat.get(key({ environment, op })));
      const fb = figures(bLat.get(key({ environment, op })));
      const p50Ratio = fa && fb ? ratio(fb.p50, fa.p50) : null;
      const tooFewCalls = fa !== null && fb !== null && Math.min(fa.n, fb.n) < MIN_CALLS_TO_JUDGE;
      return {
        environment, op, a: fa, b: fb, p50Ratio, p95Ratio: fa && fb ? ratio(fb.p95, fa.p95) : null, tooFewCalls,
        regression: p50Ratio !== null && !tooFewCalls && p50Ratio > 1 + options.maxLatencyRegression,
      };
    })
    .filter((c) => c.a !== null || c.b !== null);
  scenarios.sort((x, y) => levelRank(x.level) - levelRank(y.level) || x.level.localeCompare(y.level) || x.scenario.localeCompare(y.scenario));

  const regressions = [
    ...scenarios.filter((s) => s.regression).map((s) =>
      `${s.scenario} [${s.level}] passed in ${a.label} but failed in ${b.label}${s.bExpected ? ` (a known ${s.bExpected} of ${b.label}'s expectation file)` : ''}`),
    ...latency.filter((l) => l.regression).map((l) =>
      `${l.environment} ${l.op} p50 ${l.b?.p50} ms in ${b.label} vs ${l.a?.p50} ms in ${a.label}: ×${l.p50Ratio} (allowed ×${1 + options.maxLatencyRegression})`),
  ];
  const notes: string[] = [];
  for (const side of [a, b]) {
    if (side.ignoredLatencyRecords > 0) notes.push(`${side.label}: ${side.ignoredLatencyRecords} latency records without an environment (older report) were left out`);
  }
  const judgedTooFew = latency.filter((l) => l.tooFewCalls);
  if (judgedTooFew.length > 0) {
    notes.push(`not judged (fewer than ${MIN_CALLS_TO_JUDGE} calls on a side): ${judgedTooFew.map((l) => `${l.environment} ${l.op}`).join(', ')}`);
  }
  const incomplete = [a, b].flatMap((s) => [
    ...s.problems.map((p) => `${s.label}: ${p}`),
    ...(s.results.length === 0 ? [`${s.label}: no scenario has a result`] : []),
  ]);
  const side = (s: RunSnapshot): RunSide => ({ label: s.label, dir: s.dir, build: s.build, plugin: s.plugin });
  return {
    a: side(a), b: side(b), date: (options.date ?? new Date()).toISOString(), machine: options.machine ?? machineDescription(),
    maxLatencyRegression: options.maxLatencyRegression, scenarios, latency, regressions, incomplete, notes,
  };
}

/** B did not regress against A, and both runs completed. */
export function comparisonPassed(c: Comparison): boolean {
  return c.regressions.length === 0 && c.incomplete.length === 0;
}

const fmtRatio = (r: number | null): string => (r === null ? '–' : `×${r.toFixed(2)}`);
export const fmtFigures = (f: LatencyFigures | null): string => (f ? `p50 ${f.p50} / p95 ${f.p95} ms (n ${f.n})` : 'no calls');

/** The terminal view: differing verdicts, the latency table, and the regressions. */
export function formatComparison(c: Comparison): string {
  const lines = ['', `${c.a.label}: ${c.a.build}   ${c.b.label}: ${c.b.build}`];
  const differing = c.scenarios.filter((s) => s.a !== s.b);
  lines.push(`Scenarios: ${c.scenarios.length}, ${differing.length} with different verdicts`);
  for (const s of differing) {
    lines.push(`  ${(s.a ?? 'not run').padEnd(8)} → ${(s.b ?? 'not run').padEnd(8)} [${s.level}] ${s.scenario}${s.regression ? '   REGRESSION' : ''}`);
    if (s.bWhy) lines.push(`                        ↳ ${s.bExpected ? `expected for ${c.b.label} (${s.bExpected}): ` : ''}${s.bWhy}`);
  }
  lines.push('CNI latency per environment (B/A of p50 and p95):');
  for (const l of c.latency) {
    lines.push(`  ${l.environment.padEnd(4)} ${l.op.padEnd(6)} ${c.a.label}: ${fmtFigures(l.a)}   ${c.b.label}: ${fmtFigures(l.b)}   ${fmtRatio(l.p50Ratio)} / ${fmtRatio(l.p95Ratio)}${l.regression ? '   REGRESSION' : ''}`);
  }
  for (const n of c.notes) lines.push(`note: ${n}`);
  if (c.incomplete.length > 0) lines.push(`The comparison is incomplete:\n${c.incomplete.map((r) => `  - ${r}`).join('\n')}`);
  if (c.regressions.length > 0) lines.push(`${c.b.label} regressed against ${c.a.label}:\n${c.regressions.map((r) => `  - ${r}`).join('\n')}`);
  else if (c.incomplete.length === 0) lines.push(`${c.b.label} did not regress against ${c.a.label}.`);
  return lines.join('\n');
}

const VERDICT_CLASS: Record<Verdict, string> = { passed: 'pass', failed: 'fail', skipped: 'skip' };

/** A self-contained page for people: header, verdict, scenario table, latency table. */
export function renderComparisonHtml(c: Comparison, title: string): string {
  const cell = (v: Verdict | null, why: string | undefined) =>
    (v ? `<td class="${VERDICT_CLASS[v]}">${v}${why ? `<div class="why">${escapeHtml(why)}</div>` : ''}</td>` : '<td class="none">not run</td>');
  const scenarioRows = c.scenarios.map((s) => {
    const cls = s.regression ? 'regression' : s.a !== s.b ? 'changed' : '';
    return `<tr class="${cls}"><td>${escapeHtml(s.level)}</td><td class="name">${escapeHtml(s.scenario)}</td>${cell(s.a, s.aWhy)}${cell(s.b, s.bExpected ? `expected (${s.bExpected}): ${s.bWhy ?? ''}` : s.bWhy)}</tr>`;
  }).join('\n');
  const ratioCell = (r: number | null, judged: boolean) => {
    const cls = r === null ? '' : r > 1 + c.maxLatencyRegression ? (judged ? 'slower' : 'slower-unjudged') : r < 1 - c.maxLatencyRegression ? 'faster' : '';
    return `<td class="${cls}">${fmtRatio(r)}</td>`;
  };
  const num = (f: LatencyFigures | null, k: keyof LatencyFigures) => `<td>${f ? f[k] : '–'}</td>`;
  const latencyRows = c.latency.map((l) =>
    `<tr class="${l.regression ? 'regression' : ''}"><td>${l.environment}</td><td>${escapeHtml(l.op)}</td>${num(l.a, 'n')}${num(l.a, 'p50')}${num(l.a, 'p95')}` +
    `${num(l.b, 'n')}${num(l.b, 'p50')}${num(l.b, 'p95')}${ratioCell(l.p50Ratio, !l.tooFewCalls)}${ratioCell(l.p95Ratio, false)}</tr>`).join('\n');
  const list = (items: readonly string[]) => `<ul>${items.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>`;
  const verdict = comparisonPassed(c)
    ? `<p class="verdict ok">${escapeHtml(c.b.label)} did not regress against ${escapeHtml(c.a.label)}.</p>`
    : `<div class="verdict bad">${c.regressions.length > 0 ? `<p>${escapeHtml(c.b.label)} regressed against ${escapeHtml(c.a.label)}:</p>${list(c.regressions)}` : ''}` +
      `${c.incomplete.length > 0 ? `<p>The comparison is incomplete:</p>${list(c.incomplete)}` : ''}</div>`;
  const counts = (pick: (s: ScenarioComparison) => Verdict | null) =>
    (['passed', 'failed', 'skipped'] as const).map((v) => `${c.scenarios.filter((s) => pick(s) === v).length} ${v}`).join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}
${VERDICT_TABLE_CSS}
tr.regression{background:#fde2e4}tr.changed{background:#fff6d6}td.slower{background:#f8b4b4;font-weight:bold}td.slower-unjudged{background:#fde2e4}td.faster{background:#d4f4dd}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<dl>
<dt>${escapeHtml(c.a.label)}</dt><dd>${escapeHtml(c.a.build)} (plugin ${escapeHtml(c.a.plugin)}; ${counts((s) => s.a)}; reports ${escapeHtml(c.a.dir)})</dd>
<dt>${escapeHtml(c.b.label)}</dt><dd>${escapeHtml(c.b.build)} (plugin ${escapeHtml(c.b.plugin)}; ${counts((s) => s.b)}; reports ${escapeHtml(c.b.dir)})</dd>
<dt>date</dt><dd>${escapeHtml(c.date)}</dd>
<dt>machine</dt><dd>${escapeHtml(c.machine)}</dd>
<dt>rule</dt><dd>a regression is a scenario passing in ${escapeHtml(c.a.label)} and failing in ${escapeHtml(c.b.label)}, or an op whose p50 in ${escapeHtml(c.b.label)} exceeds ×${(1 + c.maxLatencyRegression).toFixed(2)} of ${escapeHtml(c.a.label)}'s in the same environment (judged from ${MIN_CALLS_TO_JUDGE} calls a side)</dd>
</dl>
${verdict}
${c.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n')}
<h2>CNI latency per environment</h2>
<p>Milliseconds of wall time per CNI call as the container runtime saw it; each environment on its own (the vm guest runs under software emulation).</p>
<table><tr><th rowspan="2">environment</th><th rowspan="2">op</th><th colspan="3">${escapeHtml(c.a.label)}</th><th colspan="3">${escapeHtml(c.b.label)}</th><th colspan="2">${escapeHtml(c.b.label)}/${escapeHtml(c.a.label)}</th></tr>
<tr><th>n</th><th>p50</th><th>p95</th><th>n</th><th>p50</th><th>p95</th><th>p50</th><th>p95</th></tr>
${latencyRows || '<tr><td colspan="10">no CNI calls recorded</td></tr>'}
</table>
<h2>Scenarios</h2>
<p>Red rows: passed in ${escapeHtml(c.a.label)}, failed in ${escapeHtml(c.b.label)}. Yellow rows: any other difference.</p>
<table><tr><th>level</th><th>scenario</th><th>${escapeHtml(c.a.label)}</th><th>${escapeHtml(c.b.label)}</th></tr>
${scenarioRows}
</table>
</body></html>
`;
}
