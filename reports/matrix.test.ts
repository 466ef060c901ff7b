import { describe, expect, it } from 'vitest';
import type { RunSnapshot } from './comparison.ts';
import { summarizeByGroup, type Environment, type LatencyRun } from './latency.ts';
import { buildMatrix, formatMatrix, matrixPassed, renderMatrixHtml } from './matrix.ts';
import type { ScenarioResult, ScenarioStatus } from './summary.ts';

const result = (name: string, status: ScenarioStatus, extra: Partial<ScenarioResult> = {}): ScenarioResult =>
  ({ name, uri: 'features/x.feature', feature: 'X', tags: ['@core'], status, where: 'host', seconds: 1, ...extra });

const calls = (op: string, environment: Environment, ms: number[]): LatencyRun[] =>
  ms.map((m) => ({ scenario: 's', environment, provider: 'local', plugin: 'bundled', op, pod: 'ns/a', node: 'node-1', ms: m, delegates: [] }));

const snapshot = (label: string, results: ScenarioResult[], runs: LatencyRun[], problems: string[] = []): RunSnapshot =>
  ({ label, dir: `/r/${label}`, build: 'bundled', plugin: 'bundled', results, latency: summarizeByGroup(runs), ignoredLatencyRecords: 0, problems, expectedFailures: {} });

const fixed = { date: new Date('2026-12-01T03:00:00Z'), machine: 'ci-box' };

describe('buildMatrix', () => {
  it('keeps each control plane\'s latency in its own column, never pooled, and passes on equal verdicts', () => {
    const m = buildMatrix([
      snapshot('binaries', [result('s1', 'PASSED'), result('s2', 'SKIPPED', { reason: 'no ipvlan' })], calls('ADD', 'host', [10, 10, 10])),
      snapshot('container:v1.20.2', [result('s1', 'PASSED'), result('s2', 'SKIPPED', { reason: 'no ipvlan' })], calls('ADD', 'host', [30, 30, 30])),
      snapshot('third', [result('s1', 'PASSED'), result('s2', 'SKIPPED', { reason: 'no ipvlan' })], []),
    ], fixed);
    expect(matrixPassed(m)).toBe(true);
    expect(m.latency).toEqual([{ environment: 'host', op: 'ADD', figures: [{ n: 3, p50: 10, p95: 10 }, { n: 3, p50: 30, p95: 30 }, null] }]);
    expect(m.scenarios.map((s) => [s.scenario, s.verdicts, s.differs])).toEqual([
      ['features/x.feature: s1', ['passed', 'passed', 'passed'], false],
      ['features/x.feature: s2', ['skipped', 'skipped', 'skipped'], false],
    ]);
    expect(formatMatrix(m)).toContain('host ADD    binaries: p50 10 / p95 10 ms (n 3)   container:v1.20.2: p50 30 / p95 30 ms (n 3)   third: no calls');
    expect(formatMatrix(m)).toContain('Every scenario has the same verdict on binaries, container:v1.20.2, third.');
  });

  it('fails on any verdict that differs, and on a run that did not complete', () => {
    const m = buildMatrix([
      snapshot('a', [result('s1', 'PASSED'), result('s2', 'PASSED')], []),
      snapshot('b', [result('s1', 'FAILED', { error: 'AssertionError [ERR_ASSERTION]: pod a has no net1' })], [], ['host run: exited 1']),
    ], fixed);
    expect(matrixPassed(m)).toBe(false);
    expect(m.differences).toEqual(['features/x.feature: s1 [core]: a passed, b failed', 'features/x.feature: s2 [core]: a passed, b not run']);
    expect(m.incomplete).toEqual(['b: host run: exited 1']);
    expect(m.scenarios[0]!.why).toEqual([null, 'pod a has no net1']);
    const html = renderMatrixHtml(m, 'matrix');
    expect(html).toContain('<th>a</th><th>b</th>');
    expect(html).toContain('<td class="fail">failed<div class="why">pod a has no net1</div></td>');
  });
});
