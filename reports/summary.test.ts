import { describe, expect, it } from 'vitest';
import { formatSummary, scenarioId, scenarioOk, scenarioResultsFromNdjson, summaryFile } from './summary.ts';

const lines = (...envelopes: object[]) => envelopes.map((e) => JSON.stringify(e)).join('\n');
const pickle = (id: string, name: string, tags: string[] = []) => ({ pickle: { id, uri: 'features/x.feature', name, tags: tags.map((t) => ({ name: t })) } });
const step = (started: string, status: string, message?: string) => ({ testStepFinished: { testCaseStartedId: started, testStepResult: { status, ...(message ? { message } : {}) } } });

const stream = lines(
  { gherkinDocument: { uri: 'features/x.feature', feature: { name: 'Everything at once' } } },
  pickle('p1', 'passes'), pickle('p2', 'fails'), pickle('p3', 'skipped with reason', ['@ipvlan']), pickle('p4', 'undefined step'), pickle('p5', 'silently skipped'),
  { testCase: { id: 't1', pickleId: 'p1' } }, { testCase: { id: 't2', pickleId: 'p2' } }, { testCase: { id: 't3', pickleId: 'p3' } },
  { testCase: { id: 't4', pickleId: 'p4' } }, { testCase: { id: 't5', pickleId: 'p5' } },
  { testCaseStarted: { id: 's1', testCaseId: 't1', timestamp: { seconds: 100, nanos: 0 } } }, step('s1', 'PASSED'), step('s1', 'PASSED'),
  { testCaseFinished: { testCaseStartedId: 's1', timestamp: { seconds: 102, nanos: 500_000_000 } } },
  { testCaseStarted: { id: 's2', testCaseId: 't2' } }, step('s2', 'PASSED'), step('s2', 'FAILED', 'pod "a" has no interface net1\n\n  expected net1\n    at E2EWorld.podLink (steps/world.ts:1:1)'), step('s2', 'SKIPPED'),
  { testCaseFinished: { testCaseStartedId: 's2' } },
  { testCaseStarted: { id: 's3', testCaseId: 't3' } },
  { attachment: { testCaseStartedId: 's3', body: 'skipped: needs ipvlan: no kernel support', mediaType: 'text/x.cucumber.log+plain' } },
  step('s3', 'SKIPPED'), { testCaseFinished: { testCaseStartedId: 's3' } },
  { testCaseStarted: { id: 's4', testCaseId: 't4' } }, step('s4', 'UNDEFINED'), { testCaseFinished: { testCaseStartedId: 's4' } },
  { testCaseStarted: { id: 's5', testCaseId: 't5' } }, step('s5', 'SKIPPED'), { testCaseFinished: { testCaseStartedId: 's5' } },
);

describe('scenarioResultsFromNdjson', () => {
  const results = scenarioResultsFromNdjson(stream, 'vm');

  it('gives each scenario its worst step status, where it ran, its skip reason and first error', () => {
    expect(results.map((r) => [r.name, r.status, r.where])).toEqual([
      ['passes', 'PASSED', 'vm'], ['fails', 'FAILED', 'vm'], ['skipped with reason', 'SKIPPED', 'vm'],
      ['undefined step', 'UNDEFINED', 'vm'], ['silently skipped', 'SKIPPED', 'vm'],
    ]);
    expect(results[1]?.error).toBe('pod "a" has no interface net1\n\n  expected net1');
    expect(results[2]?.reason).toBe('needs ipvlan: no kernel support');
  });

  it('names the feature, the scenario id and the wall time of each scenario', () => {
    expect(results[0]).toMatchObject({ feature: 'Everything at once', seconds: 2.5 });
    expect(results[1]?.seconds).toBe(0); // no timestamps in the stream: unknown, not negative
    expect(scenarioId(results[0]!)).toBe('features/x.feature: passes');
  });

  it('counts passed and reasoned skips as ok; failures, undefined steps and silent skips are not', () => {
    expect(results.map(scenarioOk)).toEqual([true, false, true, false, false]);
  });

  it('counts a retried scenario once, by its last attempt', () => {
    const retried = lines(pickle('p1', 'flaky'), { testCase: { id: 't1', pickleId: 'p1' } },
      { testCaseStarted: { id: 'a', testCaseId: 't1' } }, step('a', 'FAILED', 'x'), { testCaseFinished: { testCaseStartedId: 'a', willBeRetried: true } },
      { testCaseStarted: { id: 'b', testCaseId: 't1' } }, step('b', 'PASSED'), { testCaseFinished: { testCaseStartedId: 'b' } });
    expect(scenarioResultsFromNdjson(retried, 'host').map((r) => r.status)).toEqual(['PASSED']);
  });

  it('prints every scenario with where it ran and the skip reasons', () => {
    const text = formatSummary(results);
    expect(text).toContain('SKIPPED   vm   features/x.feature: skipped with reason');
    expect(text).toContain('↳ needs ipvlan: no kernel support');
    expect(text).toContain('SKIPPED (no reason given: counts as a failure)');
    expect(text).toContain('↳ pod "a" has no interface net1\n            ↳   expected net1\n'); // blank lines left out
    expect(text).toContain('5 scenarios: 1 passed, 2 skipped, 1 failed, 1 undefined/pending/ambiguous; 3 not ok');
  });

  it('labels a kind run kind, not host', () => {
    const kind = scenarioResultsFromNdjson(stream, 'kind');
    expect(kind.every((r) => r.where === 'kind')).toBe(true);
    expect(formatSummary(kind)).toContain('PASSED    kind features/x.feature: passes');
  });

  it('prints the scenarios under the headings it is given, with the counts over all of them', () => {
    const text = formatSummary(results, [{ title: 'First two', results: results.slice(0, 2) }, { title: 'Rest', results: results.slice(2) }]);
    expect(text.split('\n').filter((l) => l.endsWith(':'))).toEqual(['First two:', 'Rest:']);
    expect(text.indexOf('features/x.feature: fails')).toBeLessThan(text.indexOf('Rest:'));
    expect(text).toContain('5 scenarios: 1 passed');
  });

  it('counts for CI: reasoned skips are skipped, every other not-ok scenario is failed', () => {
    const file = summaryFile(results);
    expect([file.passed, file.failed, file.skipped, file.scenarios.length]).toEqual([1, 3, 1, 5]);
  });
});
