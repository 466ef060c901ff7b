// reports/junit.xml: the whole run (host and vm scenarios) as JUnit XML with the conformance level made
// visible. Cucumber's own cucumber.xml has one <testsuite> per process and the Feature name as classname,
// so the level is nowhere. Here every level is a <testsuite> ("core", "extended:default-route",
// "quality"), the level is each testcase's classname (the column GitLab and Jenkins list and group by),
// and the feature, scenario id and environment ride along as testcase properties.
import { levelOf } from './conformance.ts';
import { scenarioId, scenarioOk, type ScenarioResult } from './summary.ts';

const NO_LEVEL = 'no-level';

// XML 1.0 has no place for most control characters, even escaped.
const INVALID_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;
const xml = (s: string): string =>
  s.replace(INVALID_XML, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function testcase(r: ScenarioResult, level: string, levelProblem: string | undefined): string {
  const properties = [['level', level], ['feature', r.feature], ['scenario', scenarioId(r)], ['environment', r.where]]
    .map(([name, value]) => `        <property name="${name}" value="${xml(value ?? '')}"/>`).join('\n');
  const body: string[] = [`      <properties>\n${properties}\n      </properties>`];
  if (levelProblem) body.push(`      <failure type="level-tag" message="${xml(levelProblem)}">${xml(`${levelProblem}: give the scenario or its Feature exactly one of @core, @extended:<feature>, @quality`)}</failure>`);
  else if (r.status === 'SKIPPED' && r.reason) body.push(`      <skipped message="${xml(r.reason)}"/>`);
  else if (!scenarioOk(r)) {
    const message = r.error?.split('\n')[0] ?? (r.status === 'SKIPPED' ? 'skipped without a reason' : r.status);
    body.push(`      <failure type="${r.status}" message="${xml(message)}">${xml(r.error ?? message)}</failure>`);
  }
  return `    <testcase classname="${xml(level)}" name="${xml(`${r.feature}: ${r.name}`)}" file="${xml(r.uri)}" time="${r.seconds}">\n${body.join('\n')}\n    </testcase>`;
}

export function renderJunit(results: readonly ScenarioResult[]): string {
  const suites = new Map<string, string[]>();
  const failures = new Map<string, number>();
  const skips = new Map<string, number>();
  const times = new Map<string, number>();
  for (const r of [...results].sort((x, y) => scenarioId(x).localeCompare(scenarioId(y)))) {
    const found = levelOf(r.tags);
    const level = 'level' in found ? found.level : NO_LEVEL;
    const problem = 'problem' in found ? found.problem : undefined;
    suites.set(level, [...(suites.get(level) ?? []), testcase(r, level, problem)]);
    const failed = problem !== undefined || !scenarioOk(r);
    if (failed) failures.set(level, (failures.get(level) ?? 0) + 1);
    else if (r.status === 'SKIPPED') skips.set(level, (skips.get(level) ?? 0) + 1);
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
