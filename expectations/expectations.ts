// Expectation files (expectations/<build>.yaml): what a given Multus build is known to fail, and why, so
// release CI gates on "the outcome matches what we know" instead of "everything passed". Loaded and
// validated here (`multus-e2e run --expect FILE`); a run matches when no scenario fails that is not listed
// and no listed scenario passes.
//
// An entry may name the environments (host, vm, kind) it applies to; elsewhere the scenario must pass.
//
// Skips: a scenario skipped with its reason (e.g. the kernel lacks ipvlan and --no-vm was given) is not a
// mismatch by default; it still makes the build "not conform" in conformance.json when it is @core or of a
// claimed feature. `failOnSkip: true` in the file makes every skip a mismatch, for CI that must run the
// whole suite. A listed scenario that was skipped or not selected is reported as "not exercised".
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isFeatureName } from '../reports/conformance.ts';
import { ENVIRONMENTS } from '../reports/latency.ts';
import { scenarioId, scenarioOk, type ScenarioResult, type ScenarioStatus } from '../reports/summary.ts';

export const EXPECTATION_CLASSES = ['upstream-bug', 'quality', 'unsupported'] as const;
export type ExpectationClass = (typeof EXPECTATION_CLASSES)[number];

const expectedFailureSchema = z.strictObject({
  /** "<uri>: <scenario name>", e.g. "features/selection.feature: A pod sends its default traffic through an additional network". */
  scenario: z.string().min(1),
  class: z.enum(EXPECTATION_CLASSES),
  /** One or two sentences: the mechanism. */
  reason: z.string().trim().min(1),
  /** An http(s) URL, or a file of this repository (optionally with #anchor). */
  reference: z.string().trim().min(1),
  /**
   * Where the failure happens, when not everywhere: e.g. only on kind, whose containerd retries the DEL
   * of a sandbox whose ADD failed (the local node agent sends that DEL once). Elsewhere the entry does
   * not apply: the scenario must pass there.
   */
  environments: z.array(z.enum(ENVIRONMENTS)).min(1).optional(),
  /**
   * The build fails the scenario in some runs only, by a race inside it that the reason describes with
   * both outcomes: a pass is then reported but is no mismatch. A failure still must be this one.
   */
  varies: z.boolean().optional(),
});

const expectationFileSchema = z.strictObject({
  build: z.string().trim().min(1),
  claims: z.array(z.string().refine(isFeatureName, { message: 'a feature name is lowercase letters, digits and "-", e.g. default-route' })).default([]),
  failOnSkip: z.boolean().default(false),
  expectedFailures: z.array(expectedFailureSchema).default([]),
});

export type ExpectedFailure = z.infer<typeof expectedFailureSchema>;
export type Expectations = z.infer<typeof expectationFileSchema> & { file: string };

/** What the suite in features/ has, to catch stale entries and unknown claims. */
export interface SuiteIndex {
  scenarioIds: ReadonlySet<string>;
  extendedFeatures: readonly string[];
}

export class ExpectationFileError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`${file} is not a valid expectation file:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** ['expectedFailures', 2, 'reason'] → "expectedFailures[2].reason". */
function fieldPath(parts: readonly PropertyKey[]): string {
  return parts.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc === '' ? String(part) : `${acc}.${String(part)}`), '') || '(top level)';
}

function referenceProblem(reference: string, root: string): string | undefined {
  if (/^https?:\/\/\S+$/.test(reference)) return undefined;
  const file = reference.split('#')[0] ?? '';
  if (file !== '' && !path.isAbsolute(file) && existsSync(path.join(root, file))) return undefined;
  return `"${reference}" is neither an http(s) URL nor a file of this repository (relative to ${root})`;
}

/**
 * Reads and validates an expectation file. Every problem is reported at once, each naming the field
 * (e.g. "expectedFailures[2].reason"); a scenario that is not in features/ is a stale entry and an error.
 * `root` is the repository root that file references are relative to.
 */
export function loadExpectations(file: string, suite: SuiteIndex, root: string): Expectations {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ExpectationFileError(file, [(err as Error).message]);
  }
  const parsed = expectationFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new ExpectationFileError(file, parsed.error.issues.map((i) =>
      `${fieldPath(i.path)}: ${i.code === 'invalid_type' && /received undefined$/.test(i.message) ? 'missing (required)' : i.message}`));
  }

  const problems: string[] = [];
  parsed.data.claims.forEach((feature, i) => {
    if (!suite.extendedFeatures.includes(feature)) {
      problems.push(`claims[${i}]: no scenario in features/ is tagged @extended:${feature} (the suite has: ${suite.extendedFeatures.join(', ') || 'none'})`);
    }
  });
  const seen = new Map<string, number>();
  parsed.data.expectedFailures.forEach((entry, i) => {
    if (!suite.scenarioIds.has(entry.scenario)) {
      problems.push(`expectedFailures[${i}].scenario: "${entry.scenario}" matches no scenario in features/ (stale entry: renamed or removed?)`);
    }
    const first = seen.get(entry.scenario);
    if (first !== undefined) problems.push(`expectedFailures[${i}].scenario: "${entry.scenario}" is already listed at expectedFailures[${first}]`);
    else seen.set(entry.scenario, i);
    const reference = referenceProblem(entry.reference, root);
    if (reference) problems.push(`expectedFailures[${i}].reference: ${reference}`);
  });
  if (problems.length > 0) throw new ExpectationFileError(file, problems);
  return { ...parsed.data, file };
}

export interface ScenarioOutcome {
  scenario: string;
  status: ScenarioStatus;
}

export interface ExpectationMatch {
  file: string;
  build: string;
  /** True exactly when the run's outcome is what the file says. */
  matches: boolean;
  failOnSkip: boolean;
  /** Failed and not listed. */
  unexpectedFailures: (ScenarioOutcome & { error?: string })[];
  /** Listed, but passed: the bug is fixed or the test got weaker; either way the file must change. */
  unexpectedPasses: (ScenarioOutcome & ExpectedFailure)[];
  /** Failed as listed. */
  expectedFailures: (ScenarioOutcome & ExpectedFailure)[];
  /** Listed with `varies`, and passed this time. */
  variedPasses: (ScenarioOutcome & ExpectedFailure)[];
  /** Skipped with a reason while the file says failOnSkip. */
  unexpectedSkips: (ScenarioOutcome & { reason: string })[];
  /** Listed, but skipped or not selected in this run: neither confirmed nor contradicted. */
  notExercised: { scenario: string; why: string }[];
}

export function matchExpectations(expectations: Expectations, results: readonly ScenarioResult[]): ExpectationMatch {
  const listed = new Map(expectations.expectedFailures.map((e) => [e.scenario, e]));
  const applies = (entry: ExpectedFailure | undefined, r: ScenarioResult): ExpectedFailure | undefined =>
    entry && (!entry.environments || entry.environments.includes(r.where)) ? entry : undefined;
  const match: ExpectationMatch = {
    file: expectations.file, build: expectations.build, matches: false, failOnSkip: expectations.failOnSkip,
    unexpectedFailures: [], unexpectedPasses: [], expectedFailures: [], variedPasses: [], unexpectedSkips: [], notExercised: [],
  };
  const ran = new Set<string>();
  for (const r of results) {
    const scenario = scenarioId(r);
    ran.add(scenario);
    const scoped = listed.get(scenario);
    const entry = applies(scoped, r);
    const outcome = { scenario, status: r.status };
    if (scoped && !entry && r.status !== 'SKIPPED') {
      match.notExercised.push({ scenario, why: `listed for ${scoped.environments?.join(', ')} only; this run is on ${r.where}` });
    }
    if (r.status === 'SKIPPED' && r.reason !== undefined) {
      if (expectations.failOnSkip) match.unexpectedSkips.push({ ...outcome, reason: r.reason });
      else if (entry) match.notExercised.push({ scenario, why: `skipped: ${r.reason}` });
    } else if (scenarioOk(r)) {
      if (entry?.varies) match.variedPasses.push({ ...outcome, ...entry });
      else if (entry) match.unexpectedPasses.push({ ...outcome, ...entry });
    } else if (entry) {
      match.expectedFailures.push({ ...outcome, ...entry });
    } else {
      match.unexpectedFailures.push({ ...outcome, ...(r.error ? { error: r.error } : {}) });
    }
  }
  for (const entry of expectations.expectedFailures) {
    if (!ran.has(entry.scenario)) match.notExercised.push({ scenario: entry.scenario, why: 'not selected in this run' });
  }
  match.matches = match.unexpectedFailures.length === 0 && match.unexpectedPasses.length === 0 && match.unexpectedSkips.length === 0;
  return match;
}

/** What the terminal shows: every mismatch by scenario id, expected failures with reason and reference. */
export function formatExpectationMatch(match: ExpectationMatch): string {
  const lines = ['', `Expectations (${match.file}, ${match.build}):`];
  const indent = (text: string) => text.split('\n').map((l) => `      ${l}`);
  for (const f of match.unexpectedFailures) {
    lines.push(`  UNEXPECTED FAILURE  ${f.scenario} (${f.status})`);
    if (f.error) lines.push(...indent(f.error.split('\n').slice(0, 3).join('\n')));
  }
  for (const p of match.unexpectedPasses) {
    lines.push(`  UNEXPECTED PASS     ${p.scenario}`, ...indent(`listed as ${p.class}: ${p.reason}`), ...indent(`remove the entry if the fix is real (${p.reference})`));
  }
  for (const s of match.unexpectedSkips) lines.push(`  UNEXPECTED SKIP     ${s.scenario} (failOnSkip)`, ...indent(s.reason));
  for (const e of match.expectedFailures) {
    lines.push(`  expected failure    ${e.scenario} [${e.class}]`, ...indent(e.reason), ...indent(e.reference));
  }
  for (const v of match.variedPasses) {
    lines.push(`  passed, varies      ${v.scenario} [${v.class}]`, ...indent(v.reason), ...indent(v.reference));
  }
  for (const n of match.notExercised) lines.push(`  not exercised       ${n.scenario}`, ...indent(n.why));
  const mismatches = match.unexpectedFailures.length + match.unexpectedPasses.length + match.unexpectedSkips.length;
  lines.push(match.matches
    ? `The outcome matches the expectations (${match.expectedFailures.length} expected failures` +
      `${match.variedPasses.length > 0 ? `, ${match.variedPasses.length} listed as varying passed` : ''}).`
    : `The outcome does NOT match the expectations: ${match.unexpectedFailures.length} unexpected failures, ${match.unexpectedPasses.length} unexpected passes` +
      `${match.failOnSkip ? `, ${match.unexpectedSkips.length} unexpected skips` : ''} (${mismatches} in all).`);
  return lines.join('\n');
}
