// The run's verdict per scenario, read back from Cucumber's NDJSON message stream (one per cucumber
// process: the host run and the vm run), with where it ran and why it was skipped.
import { existsSync, readFileSync } from 'node:fs';
import type { Environment } from './latency.ts';

/** Where a scenario ran: this host's local provider, the vm guest, or a kind cluster (never pooled). */
export type Where = Environment;
export type ScenarioStatus = 'PASSED' | 'SKIPPED' | 'PENDING' | 'UNDEFINED' | 'AMBIGUOUS' | 'FAILED' | 'UNKNOWN';

export interface ScenarioResult {
  name: string;
  uri: string;
  /** Name of the scenario's Feature (the JUnit report groups by it). */
  feature: string;
  tags: string[];
  status: ScenarioStatus;
  where: Where;
  /** Why it was skipped (logged by the Before hook). */
  reason?: string;
  /** First failure message, for failed scenarios. */
  error?: string;
  /** Wall time of the (last) attempt. */
  seconds: number;
}

/** The identity of a scenario everywhere (expectation files, compare, summary): "<uri>: <scenario name>". */
export const scenarioId = (s: { uri: string; name: string }): string => `${s.uri}: ${s.name}`;

// Worst first wins, as Cucumber ranks step results.
const SEVERITY: ScenarioStatus[] = ['UNKNOWN', 'PASSED', 'SKIPPED', 'PENDING', 'UNDEFINED', 'AMBIGUOUS', 'FAILED'];
const worse = (a: ScenarioStatus, b: ScenarioStatus): ScenarioStatus => (SEVERITY.indexOf(b) > SEVERITY.indexOf(a) ? b : a);

interface Timestamp {
  seconds: number;
  nanos: number;
}

interface Envelope {
  gherkinDocument?: { uri: string; feature?: { name: string } };
  pickle?: { id: string; uri: string; name: string; tags: { name: string }[] };
  testCase?: { id: string; pickleId: string };
  testCaseStarted?: { id: string; testCaseId: string; timestamp?: Timestamp };
  testStepFinished?: { testCaseStartedId: string; testStepResult: { status: ScenarioStatus; message?: string } };
  testCaseFinished?: { testCaseStartedId: string; willBeRetried?: boolean; timestamp?: Timestamp };
  attachment?: { testCaseStartedId?: string; body: string; mediaType: string; contentEncoding?: string };
}

export const SKIP_LOG_PREFIX = 'skipped: ';

const toSeconds = (t: Timestamp | undefined): number => (t ? t.seconds + t.nanos / 1e9 : 0);

/** Parses one NDJSON stream; scenarios retried count once (their last attempt). */
export function scenarioResultsFromNdjson(text: string, where: Where): ScenarioResult[] {
  const featureNames = new Map<string, string>();
  const pickles = new Map<string, NonNullable<Envelope['pickle']>>();
  const startedAt = new Map<string, number>();
  const testCases = new Map<string, string>();
  const started = new Map<string, string>();
  const byStarted = new Map<string, ScenarioResult>();
  const finalByPickle = new Map<string, ScenarioResult>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const env = JSON.parse(line) as Envelope;
    if (env.gherkinDocument) featureNames.set(env.gherkinDocument.uri, env.gherkinDocument.feature?.name ?? '');
    else if (env.pickle) pickles.set(env.pickle.id, env.pickle);
    else if (env.testCase) testCases.set(env.testCase.id, env.testCase.pickleId);
    else if (env.testCaseStarted) {
      const pickle = pickles.get(testCases.get(env.testCaseStarted.testCaseId) ?? '');
      if (!pickle) continue;
      started.set(env.testCaseStarted.id, pickle.id);
      startedAt.set(env.testCaseStarted.id, toSeconds(env.testCaseStarted.timestamp));
      byStarted.set(env.testCaseStarted.id, {
        name: pickle.name, uri: pickle.uri, feature: featureNames.get(pickle.uri) ?? '', tags: pickle.tags.map((t) => t.name), status: 'UNKNOWN', where, seconds: 0,
      });
    } else if (env.testStepFinished) {
      const result = byStarted.get(env.testStepFinished.testCaseStartedId);
      if (!result) continue;
      const { status, message } = env.testStepFinished.testStepResult;
      if (status === 'FAILED' && result.status !== 'FAILED' && message) {
        // The assertion text, without the stack trace under it.
        result.error = message.split('\n').filter((l) => !/^\s+at /.test(l)).slice(0, 8).join('\n');
      }
      result.status = worse(result.status, status);
    } else if (env.attachment?.testCaseStartedId) {
      const result = byStarted.get(env.attachment.testCaseStartedId);
      const body = env.attachment.contentEncoding === 'BASE64' ? Buffer.from(env.attachment.body, 'base64').toString() : env.attachment.body;
      if (result && env.attachment.mediaType.startsWith('text/x.cucumber.log') && body.startsWith(SKIP_LOG_PREFIX)) {
        result.reason = body.slice(SKIP_LOG_PREFIX.length);
      }
    } else if (env.testCaseFinished && !env.testCaseFinished.willBeRetried) {
      const id = env.testCaseFinished.testCaseStartedId;
      const result = byStarted.get(id);
      const pickleId = started.get(id);
      if (result && pickleId) {
        const start = startedAt.get(id) ?? 0;
        const end = toSeconds(env.testCaseFinished.timestamp);
        result.seconds = start > 0 && end >= start ? Math.round((end - start) * 1000) / 1000 : 0;
        finalByPickle.set(pickleId, result);
      }
    }
  }
  return [...finalByPickle.values()];
}

export function readScenarioResults(ndjsonPath: string, where: Where): ScenarioResult[] {
  return existsSync(ndjsonPath) ? scenarioResultsFromNdjson(readFileSync(ndjsonPath, 'utf8'), where) : [];
}

/** Passed or skipped with a reason is fine; anything else (incl. undefined/pending steps, silent skips) is not. */
export function scenarioOk(r: ScenarioResult): boolean {
  return r.status === 'PASSED' || (r.status === 'SKIPPED' && r.reason !== undefined);
}

export interface ScenarioGroup {
  title: string;
  results: readonly ScenarioResult[];
}

/** Every scenario with its result, where it ran and why it was skipped or failed, under group headings; then the counts. */
export function formatSummary(results: readonly ScenarioResult[], groups: readonly ScenarioGroup[] = [{ title: 'Scenarios', results }]): string {
  const lines: string[] = [];
  for (const group of groups) {
    lines.push('', `${group.title}:`);
    for (const r of group.results) {
      const label = r.status === 'SKIPPED' && !r.reason ? 'SKIPPED (no reason given: counts as a failure)' : r.status;
      lines.push(`  ${label.padEnd(9)} ${r.where.padEnd(4)} ${scenarioId(r)}`);
      if (r.reason) lines.push(`            ↳ ${r.reason}`);
      if (r.error && r.status !== 'PASSED') lines.push(...r.error.split('\n').filter((l) => l.trim() !== '').map((l) => `            ↳ ${l}`));
    }
  }
  const count = (s: ScenarioStatus) => results.filter((r) => r.status === s).length;
  const ok = results.filter(scenarioOk).length;
  lines.push('', `${results.length} scenarios: ${count('PASSED')} passed, ${count('SKIPPED')} skipped, ${count('FAILED')} failed, ` +
    `${count('UNDEFINED') + count('PENDING') + count('AMBIGUOUS')} undefined/pending/ambiguous; ${results.length - ok} not ok`);
  return lines.join('\n');
}

export interface SummaryFile {
  passed: number;
  /** Everything not ok: failed, undefined, pending, ambiguous, silently skipped. */
  failed: number;
  /** Skipped with a reason. */
  skipped: number;
  scenarios: ScenarioResult[];
}

/** The machine-readable verdict written to reports/summary.json (CI reads the counts). */
export function summaryFile(results: readonly ScenarioResult[]): SummaryFile {
  const skipped = results.filter((r) => r.status === 'SKIPPED' && r.reason !== undefined).length;
  const passed = results.filter((r) => r.status === 'PASSED').length;
  return { passed, failed: results.length - passed - skipped, skipped, scenarios: [...results] };
}
