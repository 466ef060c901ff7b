import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labelConformanceLevels } from './allure-merge.ts';
import { buildConformance, conformanceVerdict, extendedFeaturesOf, levelGroups, levelOf, resolveClaims, type ConformanceInput } from './conformance.ts';
import { renderJunit } from './junit.ts';
import { formatSummary, type ScenarioResult, type ScenarioStatus } from './summary.ts';

const result = (name: string, tags: string[], status: ScenarioStatus, extra: Partial<ScenarioResult> = {}): ScenarioResult =>
  ({ name, uri: 'features/x.feature', feature: 'X', tags, status, where: 'host', seconds: 1.5, ...extra });

const skipped = (name: string, tags: string[]) => result(name, tags, 'SKIPPED', { reason: 'needs ipvlan: no kernel support' });

const input = (results: ScenarioResult[], over: Partial<ConformanceInput> = {}): ConformanceInput => ({
  build: 'upstream Multus v4.2.2 (thin)', plugin: 'thin:/bin/multus', environments: ['host'],
  claims: { features: ['default-route'], source: 'expectations' }, suiteFeatures: ['default-route', 'device-info'], results, ...over,
});

describe('levelOf', () => {
  it('reads exactly one level tag, feature tags included', () => {
    expect(levelOf(['@macvlan', '@core'])).toEqual({ level: 'core' });
    expect(levelOf(['@quality'])).toEqual({ level: 'quality' });
    expect(levelOf(['@selection', '@extended:default-route'])).toEqual({ level: 'extended:default-route' });
    expect(levelOf(['@core', '@core'])).toEqual({ level: 'core' }); // the same tag on Feature and Scenario
  });

  it('names the problem when there is no level tag, several, or a malformed one', () => {
    expect(levelOf(['@macvlan'])).toEqual({ problem: 'no level tag (@core, @extended:<feature> or @quality)' });
    expect(levelOf(['@core', '@quality'])).toEqual({ problem: 'more than one level tag: @core @quality' });
    expect(levelOf(['@extended'])).toMatchObject({ problem: expect.stringMatching(/malformed level tag @extended/) });
    expect(levelOf(['@extended:Default_Route'])).toMatchObject({ problem: expect.stringMatching(/malformed/) });
  });

  it('lists the extended features of a set of scenarios', () => {
    expect(extendedFeaturesOf([{ tags: ['@extended:thick'] }, { tags: ['@core'] }, { tags: ['@extended:device-info'] }, { tags: ['@extended:thick'] }]))
      .toEqual(['device-info', 'thick']);
  });
});

describe('resolveClaims', () => {
  const suiteFeatures = ['default-route', 'device-info', 'thick'];

  it('takes --claim over the expectation file, and gives the bundled plugin every feature', () => {
    expect(resolveClaims({ flag: ['thick'], expectations: ['default-route'], bundled: 'thin', suiteFeatures })).toEqual({ features: ['thick'], source: 'flag' });
    expect(resolveClaims({ expectations: ['default-route'], bundled: 'thin', suiteFeatures })).toEqual({ features: ['default-route'], source: 'expectations' });
    expect(resolveClaims({ bundled: 'thick', suiteFeatures })).toEqual({ features: suiteFeatures, source: 'bundled' });
    expect(resolveClaims({ bundled: 'thin', suiteFeatures })).toEqual({ features: suiteFeatures.filter((f) => f !== 'thick'), source: 'bundled' });
    expect(resolveClaims({ suiteFeatures })).toEqual({ features: [], source: 'none' });
    expect(resolveClaims({ flag: [], bundled: 'thin', suiteFeatures })).toEqual({ features: [], source: 'flag' }); // --claim "" claims nothing
  });

  it('refuses to claim a feature no scenario has', () => {
    expect(() => resolveClaims({ flag: ['thick', 'teleport'], suiteFeatures }))
      .toThrow('--claim teleport: no scenario in features/ is tagged @extended:teleport (the suite has: default-route, device-info, thick)');
  });
});

describe('buildConformance', () => {
  it('conforms when every @core and claimed extended scenario passed; unclaimed and @quality do not count', () => {
    const report = buildConformance(input([
      result('c1', ['@core'], 'PASSED'), result('e1', ['@extended:default-route'], 'PASSED'),
      result('u1', ['@extended:device-info'], 'FAILED'), result('q1', ['@quality'], 'FAILED'),
    ]));
    expect(report.conforms).toBe(true);
    expect(report.reasons).toEqual([]);
    expect(report.levels.map((l) => [l.level, l.required, l.claimed, l.passed.length, l.failed.length])).toEqual([
      ['core', true, undefined, 1, 0], ['extended:default-route', true, true, 1, 0], ['extended:device-info', false, false, 0, 1], ['quality', false, undefined, 0, 1],
    ]);
    expect(report.levels[2]?.failed).toEqual(['features/x.feature: u1']);
    expect(conformanceVerdict(report)).toBe('Conformance of upstream Multus v4.2.2 (thin): CONFORMS (all @core and claimed extended features passed; claimed: default-route)');
  });

  it('does not conform when a core scenario is skipped, a claimed one fails, or level tags are missing', () => {
    const report = buildConformance(input([
      skipped('c1', ['@core']), result('c2', ['@core'], 'PASSED'), result('e1', ['@extended:default-route'], 'FAILED'), result('n1', ['@macvlan'], 'PASSED'),
    ]));
    expect(report.conforms).toBe(false);
    expect(report.reasons).toEqual(['1 scenario(s) without exactly one level tag', 'core: 0 failed, 1 skipped', 'extended:default-route (claimed): 1 failed, 0 skipped']);
    expect(report.levelProblems).toEqual([{ scenario: 'features/x.feature: n1', problem: 'no level tag (@core, @extended:<feature> or @quality)' }]);
    expect(conformanceVerdict(report)).toMatch(/DOES NOT CONFORM: 1 scenario\(s\) without exactly one level tag; core: 0 failed, 1 skipped;/);
  });

  it('cannot conform on part of the suite, nor with a claimed feature of which nothing ran', () => {
    expect(buildConformance(input([result('c1', ['@core'], 'PASSED')], { selection: '@macvlan' })).reasons)
      .toEqual(['only the scenarios matching --tags "@macvlan" ran, not the whole suite', 'extended:default-route (claimed): no scenario ran']);
  });

  it('groups the terminal summary by level, those without one last', () => {
    const results = [result('q', ['@quality'], 'PASSED'), result('n', [], 'PASSED'), result('c', ['@core'], 'FAILED', { error: 'no net1' })];
    const report = buildConformance(input(results, { claims: { features: [], source: 'none' } }));
    const text = formatSummary(results, levelGroups(report, results));
    expect(text.split('\n').filter((l) => l.endsWith(':'))).toEqual([
      '@core (0 passed, 1 failed, 0 skipped):', '@quality, beyond the specs (1 passed, 0 failed, 0 skipped):', 'Without exactly one level tag (fails the run):',
    ]);
    expect(text).toContain('↳ no net1');
  });
});

describe('renderJunit', () => {
  it('makes one testsuite per level and the level each testcase\'s classname, with failures and skips', () => {
    const xml = renderJunit([
      result('b "quoted" <x>', ['@core'], 'FAILED', { error: 'pod "a" has no net1\nsecond line' }), skipped('a', ['@core']),
      result('e', ['@extended:default-route'], 'PASSED', { where: 'vm' }), result('n', [], 'PASSED'),
    ]);
    expect(xml.match(/<testsuite name="[^"]+"/g)).toEqual(['<testsuite name="core"', '<testsuite name="extended:default-route"', '<testsuite name="no-level"']);
    expect(xml).toContain('<testsuites name="multus-e2e" tests="4" failures="2" skipped="1" errors="0">');
    expect(xml).toContain('<testsuite name="core" tests="2" failures="1" skipped="1" errors="0" time="3">');
    expect(xml).toContain('<testcase classname="core" name="X: b &quot;quoted&quot; &lt;x&gt;" file="features/x.feature" time="1.5">');
    expect(xml).toContain('<failure type="FAILED" message="pod &quot;a&quot; has no net1">pod &quot;a&quot; has no net1\nsecond line</failure>');
    expect(xml).toContain('<skipped message="needs ipvlan: no kernel support"/>');
    expect(xml).toContain('<property name="environment" value="vm"/>');
    expect(xml).toMatch(/<testcase classname="no-level"[^]*<failure type="level-tag" message="no level tag/);
  });
});

describe('renderJunit with an expectation match', () => {
  it('reports expected failures as skipped and unexpected passes as failures, as pytest does for xfail', () => {
    const expected = { scenario: 'features/x.feature: known', class: 'upstream-bug' as const, reason: 'DEL leaks the address', reference: 'https://example.org/1' };
    const passing = { scenario: 'features/x.feature: fixed', class: 'quality' as const, reason: 'message lacks the key', reference: 'https://example.org/2' };
    const results = [result('known', ['@core'], 'FAILED', { error: 'left things behind' }), result('fixed', ['@quality'], 'PASSED'), result('new', ['@core'], 'FAILED')];
    const xml = renderJunit(results, {
      file: 'e.yaml', build: 'b', matches: false, failOnSkip: false, unexpectedFailures: [{ scenario: 'features/x.feature: new', status: 'FAILED' }],
      unexpectedPasses: [{ ...passing, status: 'PASSED' }], expectedFailures: [{ ...expected, status: 'FAILED' }], variedPasses: [], unexpectedSkips: [], notExercised: [],
    });
    expect(xml).toContain('<skipped type="expected-failure" message="expected failure (upstream-bug): DEL leaks the address https://example.org/1"/>');
    expect(xml).toContain('<system-out>left things behind</system-out>');
    expect(xml).toContain('<failure type="unexpected-pass" message="listed as an expected failure (quality) but passed">');
    expect(xml).toContain('<testsuite name="core" tests="2" failures="1" skipped="1"');
    expect(xml).toContain('<testsuite name="quality" tests="1" failures="1" skipped="0"');
  });
});

describe('labelConformanceLevels', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'allure-levels-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('labels each Allure result with its level as epic and parentSuite, from its tag labels', async () => {
    const write = (name: string, tags: string[]) => writeFileSync(path.join(dir, `${name}-result.json`),
      JSON.stringify({ name, labels: [{ name: 'feature', value: 'X' }, ...tags.map((value) => ({ name: 'tag', value }))] }));
    write('a', ['@macvlan', '@core']);
    write('b', ['@extended:thick']);
    write('c', []);
    writeFileSync(path.join(dir, 'x-attachment.txt'), 'not a result');
    expect(await labelConformanceLevels(dir)).toBe(3);
    const labels = (name: string) => (JSON.parse(readFileSync(path.join(dir, `${name}-result.json`), 'utf8')) as { labels: { name: string; value: string }[] }).labels;
    expect(labels('a')).toEqual(expect.arrayContaining([{ name: 'epic', value: 'core' }, { name: 'parentSuite', value: 'core' }, { name: 'tag', value: '@core' }]));
    expect(labels('b')).toContainEqual({ name: 'epic', value: 'extended:thick' });
    expect(labels('c')).toContainEqual({ name: 'epic', value: 'no level tag' });
    await labelConformanceLevels(dir); // a second pass does not stack labels
    expect(labels('a').filter((l) => l.name === 'epic')).toHaveLength(1);
  });
});
