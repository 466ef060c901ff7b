import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScenarioResult, ScenarioStatus } from '../reports/summary.ts';
import { ExpectationFileError, formatExpectationMatch, loadExpectations, matchExpectations, type Expectations, type SuiteIndex } from './expectations.ts';

const root = mkdtempSync(path.join(tmpdir(), 'expectations-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(path.join(root, 'expectations'));
writeFileSync(path.join(root, 'expectations', 'multus-v4.2.2.md'), '# notes\n');

const A = 'features/selection.feature: A pod sends its default traffic through an additional network';
const B = 'features/macvlan.feature: A pod gets net1 with an address in the network\'s subnet';
const C = 'features/errors.feature: A failing delegate is rolled back';
const suite: SuiteIndex = { scenarioIds: new Set([A, B, C]), extendedFeatures: ['default-route', 'namespace-isolation'] };

let fileNo = 0;
function file(text: string): string {
  const p = path.join(root, `f${++fileNo}.yaml`);
  writeFileSync(p, text);
  return p;
}

function problemsOf(text: string): string[] {
  return problemsOfFile(file(text));
}

function problemsOfFile(p: string): string[] {
  try {
    loadExpectations(p, suite, root);
  } catch (err) {
    if (err instanceof ExpectationFileError) return err.problems;
    throw err;
  }
  throw new Error('expected the file to be rejected');
}

const GOOD = `build: upstream Multus v4.2.2 (thin)
claims: [default-route]
expectedFailures:
  - scenario: "${A}"
    class: upstream-bug
    reason: The thin plugin keeps the cluster network's default route when the annotation asks for another.
    reference: expectations/multus-v4.2.2.md#default-route
`;

describe('loadExpectations', () => {
  it('reads a valid file, with defaults for what it leaves out', () => {
    const loaded = loadExpectations(file(GOOD), suite, root);
    expect(loaded).toMatchObject({ build: 'upstream Multus v4.2.2 (thin)', claims: ['default-route'], failOnSkip: false });
    expect(loaded.expectedFailures).toEqual([expect.objectContaining({ scenario: A, class: 'upstream-bug', reference: 'expectations/multus-v4.2.2.md#default-route' })]);
    expect(loadExpectations(file('build: x\n'), suite, root)).toMatchObject({ claims: [], expectedFailures: [] });
  });

  it('names the file, the entry index and the field of every schema problem', () => {
    const bad = file(`build: x
expectedFailures:
  - scenario: "${A}"
    class: upstream-bug
    reference: https://github.com/k8snetworkplumbingwg/multus-cni/issues/1
  - scenario: "${B}"
    class: flaky
    reason: r
    reference: https://example.org/
    extra: 1
`);
    expect(() => loadExpectations(bad, suite, root)).toThrow(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not a valid expectation file`));
    const problems = problemsOfFile(bad);
    expect(problems).toEqual(expect.arrayContaining([
      'expectedFailures[0].reason: missing (required)',
      expect.stringMatching(/^expectedFailures\[1\]\.class: /),
      expect.stringMatching(/^expectedFailures\[1\]: Unrecognized key.*extra/),
    ]));
  });

  it('rejects stale scenario ids, duplicates, unknown claims and references that lead nowhere', () => {
    const problems = problemsOf(`build: x
claims: [default-route, teleport]
expectedFailures:
  - { scenario: "features/gone.feature: Renamed away", class: quality, reason: r, reference: "https://example.org/a" }
  - { scenario: "${B}", class: quality, reason: r, reference: expectations/missing.md#x }
  - { scenario: "${B}", class: unsupported, reason: r, reference: "https://example.org/b" }
`);
    expect(problems).toEqual([
      'claims[1]: no scenario in features/ is tagged @extended:teleport (the suite has: default-route, namespace-isolation)',
      'expectedFailures[0].scenario: "features/gone.feature: Renamed away" matches no scenario in features/ (stale entry: renamed or removed?)',
      expect.stringMatching(/^expectedFailures\[1\]\.reference: "expectations\/missing.md#x" is neither an http\(s\) URL nor a file of this repository/),
      `expectedFailures[2].scenario: "${B}" is already listed at expectedFailures[1]`,
    ]);
  });

  it('says so when the YAML itself does not parse, or is not a mapping', () => {
    expect(problemsOf('build: [unclosed\n')[0]).toMatch(/Flow sequence|flow collection|Missing/i);
    expect(problemsOf('- just\n- a list\n')[0]).toMatch(/^\(top level\): /);
  });
});

const result = (id: string, status: ScenarioStatus, extra: Partial<ScenarioResult> = {}): ScenarioResult => {
  const [uri, name] = id.split(': ') as [string, string];
  return { uri, name, feature: 'F', tags: ['@core'], status, where: 'host', seconds: 1, ...extra };
};

describe('matchExpectations', () => {
  const expectations = (over: Partial<Expectations> = {}): Expectations => ({ ...loadExpectations(file(GOOD), suite, root), ...over });

  it('matches when exactly the listed scenarios fail', () => {
    const match = matchExpectations(expectations(), [result(A, 'FAILED', { error: 'default route via eth0' }), result(B, 'PASSED')]);
    expect(match.matches).toBe(true);
    expect(match.expectedFailures.map((e) => [e.scenario, e.class])).toEqual([[A, 'upstream-bug']]);
    const text = formatExpectationMatch(match);
    expect(text).toContain(`expected failure    ${A} [upstream-bug]`);
    expect(text).toContain('expectations/multus-v4.2.2.md#default-route');
    expect(text).toContain('The outcome matches the expectations (1 expected failures).');
  });

  it('names every unexpected failure and every unexpected pass', () => {
    const match = matchExpectations(expectations(), [result(A, 'PASSED'), result(B, 'FAILED', { error: 'no net1' }), result(C, 'UNDEFINED')]);
    expect(match.matches).toBe(false);
    expect(match.unexpectedPasses.map((p) => p.scenario)).toEqual([A]);
    expect(match.unexpectedFailures.map((f) => [f.scenario, f.status])).toEqual([[B, 'FAILED'], [C, 'UNDEFINED']]);
    const text = formatExpectationMatch(match);
    expect(text).toContain(`UNEXPECTED PASS     ${A}`);
    expect(text).toContain(`UNEXPECTED FAILURE  ${B} (FAILED)`);
    expect(text).toContain('does NOT match the expectations: 2 unexpected failures, 1 unexpected passes');
  });

  it('takes either outcome of an entry that varies, reporting a pass as such', () => {
    const racy = expectations();
    racy.expectedFailures = racy.expectedFailures.map((e) => (e.scenario === A ? { ...e, varies: true } : e));
    const passed = matchExpectations(racy, [result(A, 'PASSED'), result(B, 'PASSED')]);
    expect(passed.matches).toBe(true);
    expect(passed.variedPasses.map((p) => p.scenario)).toEqual([A]);
    expect(formatExpectationMatch(passed)).toContain(`passed, varies      ${A} [upstream-bug]`);
    expect(formatExpectationMatch(passed)).toContain('The outcome matches the expectations (0 expected failures, 1 listed as varying passed).');
    const failed = matchExpectations(racy, [result(A, 'FAILED'), result(B, 'PASSED')]);
    expect([failed.matches, failed.expectedFailures.map((e) => e.scenario), failed.variedPasses]).toEqual([true, [A], []]);
    // Without varies the same pass is a mismatch.
    expect(matchExpectations(expectations(), [result(A, 'PASSED'), result(B, 'PASSED')]).matches).toBe(false);
  });

  it('does not count a reasoned skip as a mismatch unless the file says failOnSkip', () => {
    const results = [result(A, 'SKIPPED', { reason: 'needs ipvlan' }), result(B, 'SKIPPED', { reason: 'needs vlan' })];
    const lenient = matchExpectations(expectations(), results);
    expect(lenient.matches).toBe(true);
    expect(lenient.notExercised).toEqual([{ scenario: A, why: 'skipped: needs ipvlan' }]);
    const strict = matchExpectations(expectations({ failOnSkip: true }), results);
    expect(strict.matches).toBe(false);
    expect(strict.unexpectedSkips.map((s) => s.scenario)).toEqual([A, B]);
    // A skip without a reason is a failure like any other.
    expect(matchExpectations(expectations(), [result(B, 'SKIPPED')]).unexpectedFailures.map((f) => f.scenario)).toEqual([B]);
  });

  it('applies an entry scoped to environments only there; elsewhere the scenario must pass', () => {
    const entry = { scenario: A, class: 'upstream-bug' as const, reason: 'r', reference: 'expectations/multus-v4.2.2.md', environments: ['kind' as const] };
    const scoped = expectations({ expectedFailures: [entry] });
    expect(matchExpectations(scoped, [result(A, 'FAILED', { where: 'kind' })]).matches).toBe(true);
    const onHost = matchExpectations(scoped, [result(A, 'FAILED', { where: 'host' })]);
    expect(onHost.matches).toBe(false);
    expect(onHost.unexpectedFailures.map((f) => f.scenario)).toEqual([A]);
    const passedOnHost = matchExpectations(scoped, [result(A, 'PASSED')]);
    expect(passedOnHost.matches).toBe(true);
    expect(passedOnHost.notExercised).toEqual([{ scenario: A, why: 'listed for kind only; this run is on host' }]);
    expect(matchExpectations(scoped, [result(A, 'PASSED', { where: 'kind' })]).unexpectedPasses.map((p) => p.scenario)).toEqual([A]);
  });

  it('refuses an environment scope that names no known environment', () => {
    expect(problemsOf(`${GOOD}    environments: [docker]\n`)[0]).toMatch(/^expectedFailures\[0\]\.environments\[0\]: /);
    expect(problemsOf(`${GOOD}    environments: []\n`)[0]).toMatch(/^expectedFailures\[0\]\.environments: /);
  });

  it('reports listed scenarios that were not selected as not exercised', () => {
    const match = matchExpectations(expectations(), [result(B, 'PASSED')]);
    expect(match.matches).toBe(true);
    expect(match.notExercised).toEqual([{ scenario: A, why: 'not selected in this run' }]);
  });
});
