// CNI latency report: every CNI call the suite made (as the node agent timed it), a summary per
// environment, plugin and op (n/p50/p95/p99/max), written to latency.json, and a self-contained HTML page
// with inline-SVG charts. Calls made on the host, inside the vm guest (software-emulated, 15-40x slower)
// and on kind nodes are never pooled: each environment gets its own numbers and chart.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pluginArgument, type CniCallRecord, type PluginUnderTest } from '../clusters/provider.ts';

export interface DelegateTiming {
  network: string;
  type: string;
  ms: number;
}

/** Where a CNI call ran: on this host (local provider), in the vm guest, or on a kind node. */
export type Environment = 'host' | 'vm' | 'kind';
export const ENVIRONMENTS: readonly Environment[] = ['host', 'vm', 'kind'];

export interface LatencyRun {
  scenario: string;
  environment: Environment;
  provider: string;
  plugin: string;
  op: string;
  /** namespace/name */
  pod: string;
  node: string;
  ms: number;
  delegates: DelegateTiming[];
  /** `multus-e2e stress`: the wave the call belongs to. */
  wave?: number;
  /** `multus-e2e stress`: pods with their networks attached on the call's node when the call started. */
  podsOnNode?: number;
}

export interface OpSummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** The numbers of one op in one environment for one plugin. */
export interface LatencySummary extends OpSummary {
  environment: Environment;
  plugin: string;
  op: string;
}

export interface LatencyReport {
  runs: LatencyRun[];
  /** Per (environment, plugin) that made calls: ADD and DEL always (n 0 when none ran), other ops when called. */
  summaries: LatencySummary[];
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

/** Nearest-rank percentile of ascending values: the smallest value with at least p% of values at or below it. */
export function percentile(sortedAscending: readonly number[], p: number): number {
  if (sortedAscending.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sortedAscending.length));
  return sortedAscending[Math.min(rank, sortedAscending.length) - 1] ?? 0;
}

export function summarizeOp(values: readonly number[]): OpSummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? 0),
  };
}

export function summarize(runs: readonly LatencyRun[]): Record<string, OpSummary> {
  const byOp = new Map<string, number[]>([['ADD', []], ['DEL', []]]);
  for (const run of runs) {
    const list = byOp.get(run.op) ?? [];
    list.push(run.ms);
    byOp.set(run.op, list);
  }
  return Object.fromEntries([...byOp].map(([op, values]) => [op, summarizeOp(values)]));
}

/** The (environment, plugin) groups of the runs, in a stable order: environments as ENVIRONMENTS, then plugin. */
export function latencyGroups(runs: readonly LatencyRun[]): { environment: Environment; plugin: string; runs: LatencyRun[] }[] {
  const groups = new Map<string, { environment: Environment; plugin: string; runs: LatencyRun[] }>();
  for (const run of runs) {
    const key = `${run.environment}\u0000${run.plugin}`;
    const group = groups.get(key) ?? { environment: run.environment, plugin: run.plugin, runs: [] };
    group.runs.push(run);
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) =>
    ENVIRONMENTS.indexOf(a.environment) - ENVIRONMENTS.indexOf(b.environment) || a.plugin.localeCompare(b.plugin));
}

export function summarizeByGroup(runs: readonly LatencyRun[]): LatencySummary[] {
  return latencyGroups(runs).flatMap(({ environment, plugin, runs: group }) =>
    Object.entries(summarize(group)).map(([op, s]) => ({ environment, plugin, op, ...s })));
}

/**
 * The environment of the calls this process records: the vm guest marks itself with MULTUS_E2E_IN_VM=1,
 * kind clusters run the plugin in their nodes, everything else runs on this host.
 */
export function currentEnvironment(provider: string): Environment {
  if (provider === 'kind') return 'kind';
  return process.env.MULTUS_E2E_IN_VM === '1' ? 'vm' : 'host';
}

export function pluginLabel(plugin: PluginUnderTest): string {
  return pluginArgument(plugin);
}

export function latencyRunsFrom(calls: readonly CniCallRecord[], scenario: string, provider: string, plugin: string,
  environment: Environment = currentEnvironment(provider)): LatencyRun[] {
  return calls.map((call) => ({
    scenario,
    environment,
    provider,
    plugin,
    op: call.op,
    pod: `${call.namespace}/${call.pod}`,
    node: call.node,
    ms: round(call.ms),
    delegates: call.delegates.map((d) => ({ network: d.network, type: d.type, ms: round(d.ms) })),
  }));
}

/**
 * For each call, how many pods had their networks attached on its node when it started: pods whose ADD
 * had succeeded by then and whose DEL had not started before it (a DEL counts its own pod).
 */
export function podsOnNodeAtStart(calls: readonly CniCallRecord[]): number[] {
  const start = (c: CniCallRecord) => Date.parse(c.startedAt);
  const attached = calls.filter((c) => c.op === 'ADD' && c.exitCode === 0)
    .map((c) => ({ node: c.node, id: c.containerId, from: start(c) + c.ms, until: Infinity }));
  for (const del of calls) {
    if (del.op !== 'DEL') continue;
    for (const a of attached) if (a.node === del.node && a.id === del.containerId && a.from <= start(del)) a.until = Math.min(a.until, start(del));
  }
  return calls.map((c) => {
    const t = start(c);
    return attached.filter((a) => a.node === c.node && a.from <= t && (t < a.until || (c.op === 'DEL' && a.id === c.containerId && t === a.until))).length;
  });
}

/** How one op's latency grows with the pods on the node within one wave: median per pod-count bucket and a least-squares slope. */
export interface WaveGrowth {
  wave: number;
  op: string;
  n: number;
  /** Milliseconds per additional pod on the node (least squares over every call); 0 with fewer than 2 distinct pod counts. */
  msPerPod: number;
  /** [pods on node (bucket start), median ms] per bucket with calls, ascending. */
  points: [number, number][];
}

function leastSquaresSlope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

/** ADD and DEL growth per wave, from runs that carry wave and podsOnNode (`multus-e2e stress`); buckets of equal width, at most `buckets` of them. */
export function latencyGrowth(runs: readonly LatencyRun[], buckets = 12): WaveGrowth[] {
  const measured = runs.filter((r): r is LatencyRun & { wave: number; podsOnNode: number } => r.wave !== undefined && r.podsOnNode !== undefined);
  const width = Math.max(1, Math.ceil((Math.max(0, ...measured.map((r) => r.podsOnNode)) + 1) / buckets));
  const waves = [...new Set(measured.map((r) => r.wave))].sort((a, b) => a - b);
  return waves.flatMap((wave) => ['ADD', 'DEL'].map((op) => {
    const own = measured.filter((r) => r.wave === wave && r.op === op);
    const byBucket = new Map<number, number[]>();
    for (const r of own) {
      const b = Math.floor(r.podsOnNode / width) * width;
      byBucket.set(b, [...(byBucket.get(b) ?? []), r.ms]);
    }
    const points = [...byBucket].sort(([a], [b]) => a - b)
      .map(([b, values]): [number, number] => [b, round(percentile([...values].sort((x, y) => x - y), 50))]);
    return { wave, op, n: own.length, msPerPod: Math.round(leastSquaresSlope(own.map((r) => r.podsOnNode), own.map((r) => r.ms)) * 100) / 100, points };
  })).filter((g) => g.n > 0);
}

export function buildLatencyReport(runs: readonly LatencyRun[]): LatencyReport {
  return { runs: [...runs], summaries: summarizeByGroup(runs) };
}

/** Writes latency.json and latency.html into dir; returns their paths. */
export async function writeLatencyReport(dir: string, runs: readonly LatencyRun[]): Promise<{ json: string; html: string }> {
  const report = buildLatencyReport(runs);
  await mkdir(dir, { recursive: true });
  const json = path.join(dir, 'latency.json');
  const html = path.join(dir, 'latency.html');
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(html, renderLatencyHtml(report));
  return { json, html };
}

export const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const OP_COLOURS: Record<string, string> = { ADD: '#1f77b4', DEL: '#d62728', CHECK: '#2ca02c', STATUS: '#9467bd', GC: '#8c564b' };
const colourOf = (op: string): string => OP_COLOURS[op] ?? '#555';

/** A "nice" axis maximum (1, 2, 5 × 10^k) at or above value. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

const CHART = { width: 860, left: 70, right: 20, rowHeight: 70, top: 20, axis: 34 };

function axisTicks(max: number, x: (ms: number) => number, y: number): string {
  const ticks: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const ms = (max / 5) * i;
    ticks.push(`<line x1="${x(ms)}" y1="${CHART.top}" x2="${x(ms)}" y2="${y}" stroke="#eee"/>` +
      `<text x="${x(ms)}" y="${y + 16}" text-anchor="middle" font-size="11">${round(ms)}</text>`);
  }
  return ticks.join('') + `<text x="${(CHART.left + CHART.width - CHART.right) / 2}" y="${y + 30}" text-anchor="middle" font-size="12">milliseconds per CNI call</text>`;
}

/** Box plot (quartiles, whiskers at min/max, p95 tick) over a strip of every call, one row per op. */
function distributionSvg(runs: readonly LatencyRun[], ops: string[]): string {
  const max = niceMax(Math.max(...runs.map((r) => r.ms), 1));
  const x = (ms: number) => round(CHART.left + ((CHART.width - CHART.left - CHART.right) * ms) / max);
  const height = CHART.top + ops.length * CHART.rowHeight + CHART.axis + 20;
  const axisY = CHART.top + ops.length * CHART.rowHeight;
  const rows = ops.map((op, i) => {
    const values = runs.filter((r) => r.op === op).map((r) => r.ms).sort((a, b) => a - b);
    const mid = CHART.top + i * CHART.rowHeight + CHART.rowHeight / 2;
    const colour = colourOf(op);
    const [q1, q2, q3, p95] = [25, 50, 75, 95].map((p) => percentile(values, p)) as [number, number, number, number];
    const dots = values.map((v, j) => {
      // Deterministic jitter so the picture is stable between renders of the same data.
      const jitter = (((j * 37) % 21) - 10) * 1.6;
      return `<circle cx="${x(v)}" cy="${round(mid + jitter)}" r="2.5" fill="${colour}" fill-opacity="0.45"><title>${op} ${v} ms</title></circle>`;
    }).join('');
    return `<text x="${CHART.left - 10}" y="${mid + 4}" text-anchor="end" font-size="13" font-weight="bold">${escapeHtml(op)}</text>` +
      `<line x1="${x(values[0] ?? 0)}" y1="${mid}" x2="${x(values.at(-1) ?? 0)}" y2="${mid}" stroke="#333"/>` +
      `<rect x="${x(q1)}" y="${mid - 14}" width="${Math.max(1, x(q3) - x(q1))}" height="28" fill="${colour}" fill-opacity="0.15" stroke="${colour}"/>` +
      `<line x1="${x(q2)}" y1="${mid - 14}" x2="${x(q2)}" y2="${mid + 14}" stroke="${colour}" stroke-width="3"><title>p50 ${q2} ms</title></line>` +
      `<line x1="${x(p95)}" y1="${mid - 18}" x2="${x(p95)}" y2="${mid + 18}" stroke="#000" stroke-dasharray="3,2"><title>p95 ${p95} ms</title></line>` +
      dots;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART.width}" height="${height}" font-family="sans-serif" role="img" aria-label="CNI call latency distribution per op">` +
    axisTicks(max, x, axisY) + rows + '</svg>';
}

/** Histogram of one op's calls in 20 equal-width bins. */
function histogramSvg(values: number[], op: string): string {
  const bins = 20;
  const max = niceMax(Math.max(...values, 1));
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v / max) * bins))]! += 1;
  const peak = Math.max(...counts, 1);
  const [w, h, left, bottom] = [420, 180, 40, 30];
  const barWidth = (w - left - 10) / bins;
  const bars = counts.map((c, i) => {
    const barHeight = ((h - bottom - 10) * c) / peak;
    const lo = round((max / bins) * i);
    const hi = round((max / bins) * (i + 1));
    return `<rect x="${round(left + i * barWidth)}" y="${round(h - bottom - barHeight)}" width="${round(barWidth - 1)}" height="${round(barHeight)}" fill="${colourOf(op)}"><title>${lo}–${hi} ms: ${c} calls</title></rect>`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" role="img" aria-label="${escapeHtml(op)} latency histogram">` +
    `<line x1="${left}" y1="${h - bottom}" x2="${w - 10}" y2="${h - bottom}" stroke="#333"/>` +
    `<line x1="${left}" y1="10" x2="${left}" y2="${h - bottom}" stroke="#333"/>` +
    `<text x="${left - 5}" y="15" text-anchor="end" font-size="10">${peak}</text><text x="${left - 5}" y="${h - bottom}" text-anchor="end" font-size="10">0</text>` +
    `<text x="${left}" y="${h - bottom + 14}" font-size="10">0</text><text x="${w - 10}" y="${h - bottom + 14}" text-anchor="end" font-size="10">${max} ms</text>` +
    `<text x="${(w + left) / 2}" y="${h - 4}" text-anchor="middle" font-size="12">${escapeHtml(op)}: calls per latency bin</text>` + bars + '</svg>';
}

const WAVE_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** One chart per op: x pods on the node when the call started, y the median ms of the calls at that count, one line per wave. */
function growthSvg(growth: readonly WaveGrowth[], op: string): string {
  const own = growth.filter((g) => g.op === op);
  const [w, h, left, bottom, top, right] = [620, 260, 60, 40, 14, 110];
  const xMax = niceMax(Math.max(1, ...own.flatMap((g) => g.points.map(([x]) => x))));
  const yMax = niceMax(Math.max(1, ...own.flatMap((g) => g.points.map(([, y]) => y))));
  const x = (v: number) => round(left + ((w - left - right) * v) / xMax);
  const y = (v: number) => round(h - bottom - ((h - bottom - top) * v) / yMax);
  const grid = [0, 1, 2, 3, 4, 5].map((i) => `<text x="${left - 6}" y="${y((yMax / 5) * i) + 4}" text-anchor="end" font-size="10">${round((yMax / 5) * i)}</text>` +
    `<line x1="${left}" y1="${y((yMax / 5) * i)}" x2="${w - right}" y2="${y((yMax / 5) * i)}" stroke="#eee"/>` +
    `<text x="${x((xMax / 5) * i)}" y="${h - bottom + 14}" text-anchor="middle" font-size="10">${round((xMax / 5) * i)}</text>`).join('');
  const lines = own.map((g, i) => {
    const colour = WAVE_COLOURS[i % WAVE_COLOURS.length];
    const pts = g.points.map(([px, py]) => `${x(px)},${y(py)}`).join(' ');
    return `<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="2"><title>wave ${g.wave}: ${g.msPerPod} ms per pod</title></polyline>` +
      g.points.map(([px, py]) => `<circle cx="${x(px)}" cy="${y(py)}" r="3" fill="${colour}"><title>wave ${g.wave}, ${px}+ pods: p50 ${py} ms</title></circle>`).join('') +
      `<text x="${w - right + 8}" y="${top + 14 * i + 10}" font-size="11" fill="${colour}">wave ${g.wave}</text>`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" role="img" aria-label="${escapeHtml(op)} latency by pods on the node, one line per wave">` +
    grid + `<line x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}" stroke="#333"/><line x1="${left}" y1="${top}" x2="${left}" y2="${h - bottom}" stroke="#333"/>` +
    `<text x="${(left + w - right) / 2}" y="${h - 6}" text-anchor="middle" font-size="12">pods on the node when the ${escapeHtml(op)} started</text>` +
    `<text x="14" y="${(h - bottom) / 2}" font-size="12" transform="rotate(-90 14 ${(h - bottom) / 2})" text-anchor="middle">p50 ms</text>` + lines + '</svg>';
}

/** Stress runs: how ADD and DEL latency grow with the pods on a node, a line per wave, and the slope per wave. */
function growthSection(runs: readonly LatencyRun[]): string {
  const growth = latencyGrowth(runs);
  if (growth.length === 0) return '';
  const waves = [...new Set(growth.map((g) => g.wave))];
  const slope = (wave: number, op: string) => growth.find((g) => g.wave === wave && g.op === op)?.msPerPod ?? '–';
  const rows = waves.map((wave) => `<tr><td>${wave}</td><td>${slope(wave, 'ADD')}</td><td>${slope(wave, 'DEL')}</td></tr>`).join('');
  return `<h3>Latency as pods accumulate on a node</h3>
<p>Median latency of the calls that started with that many pods attached on their node (buckets), one line per wave.</p>
<div class="hist">${['ADD', 'DEL'].filter((op) => growth.some((g) => g.op === op)).map((op) => growthSvg(growth, op)).join('')}</div>
<table><tr><th>wave</th><th>ADD ms per pod on the node</th><th>DEL ms per pod on the node</th></tr>${rows}</table>`;
}

const groupTitle = (g: { environment: Environment; plugin: string }): string => `${g.environment} · plugin ${g.plugin}`;

/** One section per (environment, plugin): its summary table, distribution and histograms. */
function groupSection(group: { environment: Environment; plugin: string; runs: LatencyRun[] }, summaries: readonly LatencySummary[]): string {
  const own = summaries.filter((s) => s.environment === group.environment && s.plugin === group.plugin);
  const ops = own.filter((s) => s.n > 0).map((s) => s.op);
  const rows = own.map((s) => `<tr><td>${escapeHtml(s.op)}</td><td>${s.n}</td><td>${s.p50}</td><td>${s.p95}</td><td>${s.p99}</td><td>${s.max}</td></tr>`).join('');
  return `<h2>${escapeHtml(groupTitle(group))}</h2>
<table><tr><th>op</th><th>n</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>${rows}</table>
<p>Box: 25th–75th percentile, thick line: median, dashed: p95, whiskers: min–max, dots: every call.</p>${distributionSvg(group.runs, ops)}
<div class="hist">${ops.map((op) => histogramSvg(group.runs.filter((r) => r.op === op).map((r) => r.ms), op)).join('')}</div>${growthSection(group.runs)}`;
}

export function renderLatencyHtml(report: LatencyReport): string {
  const groups = latencyGroups(report.runs);
  const slowest = [...report.runs].sort((a, b) => b.ms - a.ms).slice(0, 15).map((r) =>
    `<tr><td>${escapeHtml(r.environment)}</td><td>${escapeHtml(r.op)}</td><td>${r.ms}</td><td>${escapeHtml(r.pod)}</td><td>${escapeHtml(r.node)}</td><td>${escapeHtml(r.scenario)}</td>` +
    `<td>${escapeHtml(r.delegates.map((d) => `${d.network} (${d.type}) ${d.ms} ms`).join(', '))}</td></tr>`).join('');
  const providers = [...new Set(report.runs.map((r) => r.provider))].join(', ') || '–';
  const sections = groups.length === 0
    ? '<p>No CNI calls were recorded in this run.</p>'
    : groups.map((g) => groupSection(g, report.summaries)).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>multus-e2e CNI latency</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;font-size:13px}.slow td:nth-child(n+4){text-align:left}.hist{display:flex;flex-wrap:wrap;gap:16px}</style>
</head><body>
<h1>CNI call latency</h1>
<p>Provider: ${escapeHtml(providers)} · ${report.runs.length} calls. Wall time of each CNI call as the container runtime saw it.
Each environment is measured on its own (${groups.map((g) => escapeHtml(groupTitle(g))).join('; ') || 'none'}): calls in the vm guest run under software emulation and are not comparable with calls on the host.</p>
${sections}
<h2>Slowest calls</h2>
<table class="slow"><tr><th>environment</th><th>op</th><th>ms</th><th>pod</th><th>node</th><th>scenario</th><th>delegates</th></tr>${slowest}</table>
</body></html>
`;
}
