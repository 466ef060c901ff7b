// One judged requirement, as the certificate lists it, and the verdict over all of them.
import { requirement, specFor, type Level } from './requirements.ts';

/**
 * passed / failed; skipped: it applies but could not run here (its reason says why; a certificate with a
 * skipped requirement is not granted); not-applicable: the delegate does not claim what it tests (e.g.
 * STATUS for a plugin without CNI 1.1.0, CHECK before 0.4.0, interface checks for an IPAM plugin).
 */
export type Verdict = 'passed' | 'failed' | 'skipped' | 'not-applicable';

export interface RequirementResult {
  id: string;
  title: string;
  spec: string;
  section: string;
  level: Level;
  /** The CNI version the requirement was judged at, for per-version requirements. */
  cniVersion?: string;
  verdict: Verdict;
  expected: string;
  seen: string;
  /** The delegate calls (and kernel reads) behind the verdict, one line each. */
  evidence: string[];
  seconds: number;
}

export function judged(id: string, cniVersion: string | undefined, verdict: Verdict, expected: string, seen: string, evidence: string[] = [], seconds = 0): RequirementResult {
  const r = requirement(id);
  return {
    id, title: r.title, spec: r.spec ?? specFor(cniVersion), section: r.section, level: r.level,
    ...(cniVersion !== undefined ? { cniVersion } : {}), verdict, expected, seen, evidence, seconds,
  };
}

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
  notApplicable: number;
}

export function tally(results: readonly RequirementResult[]): Tally {
  const count = (v: Verdict) => results.filter((r) => r.verdict === v).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), notApplicable: count('not-applicable') };
}

/** Certified only when every applicable requirement ran and passed; nothing skipped, at least one judged. */
export function certified(results: readonly RequirementResult[]): boolean {
  const t = tally(results);
  return t.passed > 0 && t.failed === 0 && t.skipped === 0;
}

/** The verdict in one line, as printed and as the certificate opens. */
export function verdictLine(results: readonly RequirementResult[], profile: string): string {
  const t = tally(results);
  const counts = `${t.passed} passed, ${t.failed} failed, ${t.skipped} could not run, ${t.notApplicable} not applicable`;
  if (certified(results)) return `CERTIFIED (profile ${profile}): ${counts}`;
  const why = [t.failed > 0 ? `${t.failed} requirement result(s) failed` : '', t.skipped > 0 ? `${t.skipped} could not run here, and a requirement that did not run is not met` : '']
    .filter((s) => s !== '').join('; ');
  return `NOT CERTIFIED (profile ${profile}): ${why || 'nothing was judged'}. ${counts}`;
}

/** `id@version` for per-version results, `id` otherwise; how the JUnit cases and the console name them. */
export const resultKey = (r: RequirementResult): string => (r.cniVersion ? `${r.id}@${r.cniVersion}` : r.id);
