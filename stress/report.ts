// What a stress run reports: per wave the pods started and failed, the leaks found after it, ADD/DEL
// latency percentiles and how latency grows with the pods on a node; the whole run as stress.json, the
// calls as latency.json/latency.html (reports/latency.ts), and lines for a person at the terminal.
import { LEAK_KINDS, type Leak, type LeakKind } from '../clusters/leak-checks.ts';
import { latencyGrowth, latencyRunsFrom, podsOnNodeAtStart, summarizeOp, type Environment, type LatencyRun, type OpSummary } from '../reports/latency.ts';
import type { PodFailure, StressPlan, WaveOutcome } from './waves.ts';

export interface WaveReport {
  wave: number;
  pods: number;
  started: number;
  /** Pod failures of the wave: a pod that failed to start and then to delete counts twice. */
  failed: number;
  failures: PodFailure[];
  /** Leaks first found after this wave, every one. */
  leaks: Leak[];
  leaksByKind: Record<LeakKind, number>;
  /** Leaks an earlier wave found that are still there. */
  carriedLeaks: number;
  latency: { ADD: OpSummary; DEL: OpSummary };
  /** Least-squares growth of latency per additional pod on the node, ms. */
  msPerPod: { ADD: number; DEL: number };
  seconds: number;
}

export interface StressReport {
  plugin: string;
  provider: 'local';
  environment: Environment;
  nodes: number;
  plan: StressPlan;
  startedAt: string;
  waves: WaveReport[];
  totals: { started: number; failed: number; leaks: number };
  /** No pod failed and nothing leaked. */
  ok: boolean;
}

/** The wave's calls as latency runs, each with its wave and the pods on its node when it started. */
export function waveLatencyRuns(outcome: WaveOutcome, plugin: string, environment: Environment): LatencyRun[] {
  const onNode = podsOnNodeAtStart(outcome.calls);
  return latencyRunsFrom(outcome.calls, `stress wave ${outcome.wave}`, 'local', plugin, environment)
    .map((run, i) => ({ ...run, wave: outcome.wave, podsOnNode: onNode[i] ?? 0 }));
}

export function waveReport(outcome: WaveOutcome, runs: readonly LatencyRun[], pods: number): WaveReport {
  const leaksByKind = Object.fromEntries(LEAK_KINDS.map((k) => [k, outcome.leaks.filter((l) => l.kind === k).length])) as Record<LeakKind, number>;
  const ms = (op: string) => runs.filter((r) => r.op === op).map((r) => r.ms);
  const growth = latencyGrowth(runs);
  const slope = (op: string) => growth.find((g) => g.op === op)?.msPerPod ?? 0;
  return {
    wave: outcome.wave,
    pods,
    started: outcome.started,
    failed: outcome.failures.length,
    failures: outcome.failures,
    leaks: outcome.leaks,
    leaksByKind,
    carriedLeaks: outcome.carriedLeaks,
    latency: { ADD: summarizeOp(ms('ADD')), DEL: summarizeOp(ms('DEL')) },
    msPerPod: { ADD: slope('ADD'), DEL: slope('DEL') },
    seconds: outcome.seconds,
  };
}

export function stressReport(meta: Omit<StressReport, 'totals' | 'ok'>): StressReport {
  const totals = {
    started: meta.waves.reduce((n, w) => n + w.started, 0),
    failed: meta.waves.reduce((n, w) => n + w.failed, 0),
    leaks: meta.waves.reduce((n, w) => n + w.leaks.length, 0),
  };
  return { ...meta, totals, ok: totals.failed === 0 && totals.leaks === 0 };
}

/** Leaks and failures listed on the terminal per wave and kind; stress.json has every one. */
const SHOWN = 5;

const pct = (s: OpSummary) => `${s.p50}/${s.p95}/${s.p99} ms (n ${s.n})`;

/** The lines a wave prints when it ends. */
export function formatWave(w: WaveReport, waves: number): string {
  const kinds = LEAK_KINDS.filter((k) => w.leaksByKind[k] > 0).map((k) => `${w.leaksByKind[k]} ${k}`);
  const leakText = w.leaks.length === 0 ? 'none' : `${w.leaks.length} new (${kinds.join(', ')})`;
  const failedTo = (phase: PodFailure['phase']) => w.failures.filter((f) => f.phase === phase).length;
  const lines = [
    `wave ${w.wave}/${waves}: ${w.started}/${w.pods} pods started, ${failedTo('start')} failed to start, ${failedTo('delete')} failed to delete; leaks: ${leakText}` +
      `${w.carriedLeaks > 0 ? `, ${w.carriedLeaks} from earlier waves still there` : ''}; ${w.seconds} s`,
    `  ADD p50/p95/p99 ${pct(w.latency.ADD)}, ${w.msPerPod.ADD >= 0 ? '+' : ''}${w.msPerPod.ADD} ms per pod on the node`,
    `  DEL p50/p95/p99 ${pct(w.latency.DEL)}, ${w.msPerPod.DEL >= 0 ? '+' : ''}${w.msPerPod.DEL} ms per pod on the node`,
  ];
  for (const phase of ['start', 'delete'] as const) {
    const own = w.failures.filter((f) => f.phase === phase);
    for (const f of own.slice(0, SHOWN)) lines.push(`  failed to ${phase}: ${f.pod}: ${f.reason}`);
    if (own.length > SHOWN) lines.push(`  … and ${own.length - SHOWN} more pods that failed to ${phase}`);
  }
  for (const kind of LEAK_KINDS) {
    const own = w.leaks.filter((l) => l.kind === kind);
    for (const l of own.slice(0, SHOWN)) lines.push(`  leak (${kind}): ${l.what}`);
    if (own.length > SHOWN) lines.push(`  … and ${own.length - SHOWN} more ${kind} leaks`);
  }
  return lines.join('\n');
}

/** The closing summary: one table row per wave, the totals and the verdict. */
export function formatStressSummary(r: StressReport): string {
  const { pods, networks, waves, parallel } = r.plan;
  const header = `stress: ${pods} pods × ${networks} networks, ${waves} waves, parallel ${parallel}, ${r.nodes} nodes; plugin ${r.plugin} (${r.environment})`;
  const rows = r.waves.map((w) => [
    String(w.wave), `${w.started}/${w.pods}`, String(w.failed), String(w.leaks.length),
    `${w.latency.ADD.p50}/${w.latency.ADD.p95}/${w.latency.ADD.p99}`, `${w.latency.DEL.p50}/${w.latency.DEL.p95}/${w.latency.DEL.p99}`,
    `${w.msPerPod.ADD}/${w.msPerPod.DEL}`, String(w.seconds),
  ]);
  const table = [['wave', 'started', 'failures', 'leaks', 'ADD p50/p95/p99 ms', 'DEL p50/p95/p99 ms', 'ms per pod ADD/DEL', 's'], ...rows];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const text = table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  const verdict = r.ok
    ? `OK: ${r.totals.started} pods started, 0 failed, no leaks`
    : `FAILED: ${r.totals.failed} pod failures (start or delete), ${r.totals.leaks} leaks (every one in stress.json)`;
  return [header, ...text, verdict].join('\n');
}
