import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { comparisonPassed, compareRuns, formatComparison, readRunSnapshot, renderComparisonHtml, type RunSnapshot } from './comparison.ts';
import { summarizeByGroup, type Environment, type LatencyRun } from './latency.ts';
import type { ScenarioResult, ScenarioStatus } from './summary.ts';

const result = (name: string, status: ScenarioStatus, tags = ['@core'], extra: Partial<ScenarioResult> = {}): ScenarioResult =>
  ({ name, uri: 'features/x.feature', feature: 'X', tags, status, where: 'host', seconds: 1, ...extra });

const calls = (op: string, environment: Environment, ms: number[]): LatencyRun[] =>
  ms.map((m) => ({ scenario: 's', environment, provider: 'local', plugin: 'p', op, pod: 'ns/a', node: 'node-1', ms: m, delegates: [] }));

const snapshot = (label: string, results: ScenarioResult[], runs: LatencyRun[]): RunSnapshot =>
  ({ label, dir: `/r/${label}`, build: `build ${label}`, plugin: label, results, latency: summarizeByGroup(runs), ignoredLatencyRecords: 0, problems: [], expectedFailures: {} });

const fixed = { maxLatencyRegression: 0.25, date: new Date('2026-11-30T23:00:00Z'), machine: 'ci-box' };

describe('compareRuns', () => {
  it('finds no regression when B passes what A passed and stays within the latency threshold', () => {
    const a = snapshot('A', [result('s1', 'PASSED'), result('s2', 'FAILED')], [...calls('ADD', 'host', [100, 100, 100, 100, 100]), ...calls('ADD', 'vm', [3000, 3000, 3000, 3000, 3000])]);
    const b = snapshot('B', [result('s1', 'PASSED'), result('s2', 'PASSED')], [...calls('ADD', 'host', [120, 120, 120, 120, 120]), ...calls('ADD', 'vm', [9000, 9000, 9000, 9000, 9000])]);
    const c = compareRuns(a, b, { ...fixed, maxLatencyRegression: 2.5 });
    expect(comparisonPassed(c)).toBe(true);
    // host and vm are compared each on its own: the vm's ×3 is not mixed into the host's ×1.2.
    expect(c.latency.map((l) => [l.environment, l.op, l.p50Ratio])).toEqual([['host', 'ADD', 1.2], ['vm', 'ADD', 3]]);
    expect(c.scenarios.map((s) => [s.scenario, s.level, s.a, s.b, s.regression])).toEqual([
      ['features/x.feature: s1', 'core', 'passed', 'passed', false], ['features/x.feature: s2', 'core', 'failed', 'passed', false],
    ]);
  });

  it('names a scenario that passed in A and failed in B, and an op whose p50 grew beyond the threshold', () => {
    const a = snapshot('A', [result('s1', 'PASSED', ['@extended:default-route']), result('s2', 'PASSED')], calls('DEL', 'host', [10, 10, 10, 10, 10]));
    const b = snapshot('B', [result('s1', 'FAILED', ['@extended:default-route'], { error: 'AssertionError [ERR_ASSERTION]: pod "a" left things behind:\n\n  10.1.0.5/24 on eth0\n  more' }),
      result('s2', 'SKIPPED', ['@core'], { reason: 'no ipvlan' })], calls('DEL', 'host', [13, 13, 13, 13, 13]));
    const c = compareRuns(a, b, fixed);
    expect(c.regressions).toEqual([
      'features/x.feature: s1 [extended:default-route] passed in A but failed in B',
      'host DEL p50 13 ms in B vs 10 ms in A: ×1.3 (allowed ×1.25)',
    ]);
    // core first, then extended, whatever the ids say
    expect(c.scenarios.map((s) => s.level)).toEqual(['core', 'extended:default-route']);
    expect(c.scenarios[0]).toMatchObject({ a: 'passed', b: 'skipped', regression: false, bWhy: 'no ipvlan' });
    expect(c.scenarios[0]?.aWhy).toBeUndefined();
    expect(c.scenarios[1]?.bWhy).toBe('pod "a" left things behind: 10.1.0.5/24 on eth0');
    const long = compareRuns(a, snapshot('B', [result('s2', 'FAILED', ['@core'], { error: 'x'.repeat(500) })], []), fixed);
    expect(long.scenarios[0]?.bWhy).toHaveLength(240);
    expect(long.scenarios[0]?.bWhy?.endsWith('…')).toBe(true);
    const text = formatComparison(c);
    expect(text).toContain('B regressed against A:');
    expect(text).toContain('passed   → failed   [extended:default-route] features/x.feature: s1   REGRESSION');
  });

  it('still counts a failure B\'s expectation file lists, but says it is a known one', () => {
    const a = snapshot('A', [result('s1', 'PASSED')], []);
    const b = { ...snapshot('B', [result('s1', 'FAILED', ['@core'], { error: 'eth0 keeps the default route' })], []), expectedFailures: { 'features/x.feature: s1': 'upstream-bug' } };
    const c = compareRuns(a, b, fixed);
    expect(c.regressions).toEqual(['features/x.feature: s1 [core] passed in A but failed in B (a known upstream-bug of B\'s expectation file)']);
    expect(formatComparison(c)).toContain('↳ expected for B (upstream-bug): eth0 keeps the default route');
    expect(renderComparisonHtml(c, 't')).toContain('<div class="why">expected (upstream-bug): eth0 keeps the default route</div>');
  });

  it('fails when a run did not complete or ran nothing, whatever the verdicts', () => {
    const a = { ...snapshot('A', [result('s1', 'PASSED')], []), problems: ['1 of 2 selected scenarios have no result (did a run crash before them?)'] };
    const c = compareRuns(a, snapshot('B', [], []), fixed);
    expect(c.regressions).toEqual([]);
    expect(c.incomplete).toEqual(['A: 1 of 2 selected scenarios have no result (did a run crash before them?)', 'B: no scenario has a result']);
    expect(comparisonPassed(c)).toBe(false);
    expect(formatComparison(c)).toContain('The comparison is incomplete:\n  - A: 1 of 2');
    expect(renderComparisonHtml(c, 't')).toContain('<p>The comparison is incomplete:</p>');
  });

  it('shows but does not judge the p50 of ops with too few calls', () => {
    const c = compareRuns(snapshot('A', [], calls('ADD', 'host', [10])), snapshot('B', [], calls('ADD', 'host', [50])), fixed);
    expect(c.latency[0]).toMatchObject({ p50Ratio: 5, tooFewCalls: true, regression: false });
    expect(c.regressions).toEqual([]);
    expect(c.notes).toEqual(['not judged (fewer than 5 calls on a side): host ADD']);
  });

  it('renders a page with the header, the verdict and coloured regression rows', () => {
    const a = snapshot('A', [result('<s1>', 'PASSED')], calls('ADD', 'host', [10, 10, 10, 10, 10]));
    const b = snapshot('B', [result('<s1>', 'FAILED', ['@core'], { error: 'pod "a" has no net1\n    expected net1' })], calls('ADD', 'host', [10, 10, 10, 10, 10]));
    const page = renderComparisonHtml(compareRuns(a, b, fixed), 'A vs B');
    expect(page).toContain('<dt>machine</dt><dd>ci-box</dd>');
    expect(page).toContain('<dt>date</dt><dd>2026-11-30T23:00:00.000Z</dd>');
    expect(page).toContain('class="verdict bad"');
    expect(page).toContain('<tr class="regression"><td>core</td><td class="name">features/x.feature: &lt;s1&gt;</td><td class="pass">passed</td>' +
      '<td class="fail">failed<div class="why">pod &quot;a&quot; has no net1 expected net1</div></td></tr>');
    expect(page).not.toMatch(/<script|src="http/);
  });
});

describe('readRunSnapshot', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'snapshot-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a run\'s reports dir and leaves out latency records without an environment', () => {
    const run = path.join(dir, 'run');
    mkdirSync(run);
    writeFileSync(path.join(run, 'summary.json'), JSON.stringify({ passed: 1, failed: 0, skipped: 0, scenarios: [result('s1', 'PASSED')] }));
    const { environment: _dropped, ...old } = calls('ADD', 'host', [1])[0]!;
    writeFileSync(path.join(run, 'latency.json'), JSON.stringify({ runs: [...calls('ADD', 'vm', [7]), old] }));
    writeFileSync(path.join(run, 'conformance.json'), JSON.stringify({
      build: 'upstream Multus v4.2.2 (thin)', plugin: 'thin:/bin/multus',
      expectations: { expectedFailures: [{ scenario: 'features/x.feature: s1', status: 'FAILED', class: 'quality', reason: 'r', reference: 'https://example.org/' }] },
    }));
    const snap = readRunSnapshot(run, 'A');
    expect(snap).toMatchObject({ build: 'upstream Multus v4.2.2 (thin)', plugin: 'thin:/bin/multus', ignoredLatencyRecords: 1, expectedFailures: { 'features/x.feature: s1': 'quality' } });
    expect(snap.latency.map((s) => [s.environment, s.op, s.n])).toEqual([['vm', 'ADD', 1], ['vm', 'DEL', 0]]);
    expect(() => readRunSnapshot(path.join(dir, 'nothing'), 'B')).toThrow(/holds no summary.json/);
  });
});
