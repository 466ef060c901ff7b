// reports/junit.xml: the whole run (host and vm scenarios) as JUnit XML with the conformance level made
// visible. Cucumber's own cucumber.xml has one <testsuite> per process and the Feature name as classname,
// so the level is nowhere. Here every level is a <testsuite> ("core", "extended:default-route",
// "quality"), the level is each testcase's classname (the column GitLab and Jenkins list and group by),
// and the feature, scenario id and environment ride along as testcase properties.
// With an expectation file the XML follows the gate, as pytest's junitxml does for xfail/strict xpass:
// an expected failure is <skipped type="expected-failure"> (with the failure as system-out), an
// unexpected pass is a <failure type="unexpected-pass">, so a CI that marks builds by JUnit failures
// agrees with `run --expect`.
import type { ExpectationMatch } from '../expectations/expectations.ts';
import { levelOf } from './conformance.ts';
import { scenarioId, scenarioOk, type ScenarioResult } from './summary.ts';

const NO_LEVEL = 'no-level';

// XML 1.0 has no place for most control characters, even escaped.
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;
export const xml = (s: string): string =>
  s.replace(INVALID_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

type Listed = Map<string, { class: string; reason: string; reference: string }>;

function testcase(r: ScenarioResult, level: string, levelProblem: string | undefined, listed: Listed): string {
  const properties = [['level', level], ['feature', r.feature], ['scenario', scenarioId(r)], ['environment', r.where]]
    .map(([name, value]) => `        <property name="${name}" value="${xml(value ?? '')}"/>`).join('\n');
  const body: string[] = [`      <properties>\n${properties}\n      </properties>`];
  const entry = listed.get(scenarioId(r));
  const skippedWithReason = r.status === 'SKIPPED' && r.reason !== undefined;
  if (levelProblem) body.push(`      <failure type="level-tag" message="${xml(levelProblem)}">${xml(`${levelProblem}: give the scenario or its Feature exactly one of @core, @extended:<feature>, @quality`)}</failure>`);
  else if (skippedWithReason) body.push(`      <skipped message="${xml(r.reason ?? '')}"/>`);
  else if (entry && r.status === 'PASSED') {
    body.push(`      <failure type="unexpected-pass" message="${xml(`listed as an expected failure (${entry.class}) but passed`)}">${xml(`${entry.reason}\n${entry.reference}`)}</failure>`);
  } else if (entry) {
    body.push(`      <skipped type="expected-failure" message="${xml(`expected failure (${entry.class}): ${entry.reason} ${entry.reference}`)}"/>`,
      `      <system-out>${xml(r.error ?? r.status)}</system-out>`);
  } else if (!scenarioOk(r)) {
    const message = r.error?.split('\n')[0] ?? (r.status === 'SKIPPED' ? 'skipped without a reason' : r.status);
    body.push(`      <failure type="${r.status}" message="${xml(message)}">${xml(r.error ?? message)}</failure>`);
  }
  return `    <testcase classname="${xml(level)}" name="${xml(`${r.feature}: ${r.name}`)}" file="${xml(r.uri)}" time="${r.seconds}">\n${body.join('\n')}\n    </testcase>`;
}

/** Whether a testcase counts as failed / skipped, consistently with what testcase() wrote. */
function outcome(r: ScenarioResult, levelProblem: string | undefined, listed: Listed): 'failed' | 'skipped' | 'passed' {
  const entry = listed.get(scenarioId(r));
  if (levelProblem !== undefined) return 'failed';
  if (r.status === 'SKIPPED' && r.reason !== undefined) return 'skipped';
  if (entry) return r.status === 'PASSED' ? 'failed' : 'skipped';
  return scenarioOk(r) ? 'passed' : 'failed';
}

export function renderJunit(results: readonly ScenarioResult[], match?: ExpectationMatch): string {
  const listed: Listed = new Map([...(match?.expectedFailures ?? []), ...(match?.unexpectedPasses ?? [])].map((e) => [e.scenario, e]));
  const suites = new Map<string, string[]>();
  const failures = new Map<string, number>();
  const skips = new Map<string, number>();
  const times = new Map<string, number>();
  for (const r of [...results].sort((x, y) => scenarioId(x).localeCompare(scenarioId(y)))) {
    const found = levelOf(r.tags);
    const level = 'level' in found ? found.level : NO_LEVEL;
    const problem = 'problem' in found ? found.problem : undefined;
    suites.set(level, [...(suites.get(level) ?? []), testcase(r, level, problem, listed)]);
    const verdict = outcome(r, problem, listed);
    if (verdict === 'failed') failures.set(level, (failures.get(level) ?? 0) + 1);
    else if (verdict === 'skipped') skips.set(level, (skips.get(level) ?? 0) + 1);
    times.set(level, (times.get(level) ?? 0) + r.seconds);
  }
  const order = (level: string) => (level === 'core' ? 0 : level.startsWith('extended:') ? 1 : level === 'quality' ? 2 : 3);
  const body = [...suites.entries()].sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b)).map(([level, cases]) =>
    `  <testsuite name="${xml(level)}" tests="${cases.length}" failures="${failures.get(level) ?? 0}" skipped="${skips.get(level) ?? 0}" errors="0" ` +
    `time="${Math.round((times.get(level) ?? 0) * 1000) / 1000}">\n${cases.join('\n')}\n  </testsuite>`);
  const totalFailures = [...failures.values()].reduce((a, b) => a + b, 0);
  const totalSkips = [...skips.values()].reduce((a, b) => a + b, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="multus-e2e" tests="${results.length}" failures="${totalFailures}" skipped="${totalSkips}" errors="0">\n` +
    `${body.join('\n')}\n</testsuites>\n`;
}
