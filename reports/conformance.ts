// Conformance levels: every scenario carries exactly one level tag (feature-level tags are inherited by
// its pickle): @core (a MUST of the CNI spec, the multi-network spec or documented upstream Multus
// behaviour), @extended:<feature> (an optional capability a build may claim) or @quality (what this
// suite requires beyond the specs). A build conforms when every @core scenario and every scenario of a
// claimed extended feature passed, none of them skipped, in a run of the whole suite.
import type { Environment } from './latency.ts';
import { scenarioId, scenarioOk, type ScenarioGroup, type ScenarioResult } from './summary.ts';

export type Level = 'core' | 'quality' | `extended:${string}`;

const EXTENDED = 'extended:';
const FEATURE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** The scenario's level, or why it has none (no level tag, several, or a malformed @extended tag). */
export type LevelOfScenario = { level: Level } | { problem: string };

export function levelOf(tags: readonly string[]): LevelOfScenario {
  const levelTags = [...new Set(tags.filter((t) => t === '@core' || t === '@quality' || t.startsWith('@extended')))];
  if (levelTags.length === 0) return { problem: 'no level tag (@core, @extended:<feature> or @quality)' };
  if (levelTags.length > 1) return { problem: `more than one level tag: ${levelTags.join(' ')}` };
  const tag = levelTags[0]!.slice(1);
  if (tag.startsWith('extended') && !(tag.startsWith(EXTENDED) && FEATURE_NAME.test(tag.slice(EXTENDED.length)))) {
    return { problem: `malformed level tag @${tag}: use @extended:<feature> with a lowercase feature name` };
  }
  return { level: tag as Level };
}

export const extendedFeature = (level: Level): string | undefined => (level.startsWith(EXTENDED) ? level.slice(EXTENDED.length) : undefined);

/** Every extended feature some scenario is tagged with, sorted. */
export function extendedFeaturesOf(scenarios: readonly { tags: readonly string[] }[]): string[] {
  const features = new Set<string>();
  for (const s of scenarios) {
    const found = levelOf(s.tags);
    const feature = 'level' in found ? extendedFeature(found.level) : undefined;
    if (feature) features.add(feature);
  }
  return [...features].sort();
}

export function isFeatureName(name: string): boolean {
  return FEATURE_NAME.test(name);
}

export type ClaimsSource = 'flag' | 'expectations' | 'bundled' | 'none';

/**
 * The extended features a build claims: --claim wins over the expectation file's `claims`; without
 * either the bundled plugin claims every extended feature of the suite (but "thick" only in its thick
 * mode) and any other build none. A claimed feature no scenario has is an error (a typo would otherwise
 * claim nothing).
 */
export function resolveClaims(from: { flag?: readonly string[]; expectations?: readonly string[]; bundled?: 'thin' | 'thick'; suiteFeatures: readonly string[] }): ConformanceInput['claims'] {
  const unknown = (from.flag ?? []).filter((f) => !from.suiteFeatures.includes(f));
  if (unknown.length > 0) {
    throw new Error(`--claim ${unknown.join(',')}: no scenario in features/ is tagged ${unknown.map((f) => `@extended:${f}`).join(' or ')} ` +
      `(the suite has: ${from.suiteFeatures.join(', ') || 'none'})`);
  }
  if (from.flag) return { features: [...from.flag], source: 'flag' };
  if (from.expectations) return { features: [...from.expectations], source: 'expectations' };
  if (!from.bundled) return { features: [], source: 'none' };
  const features = from.bundled === 'thick' ? from.suiteFeatures : from.suiteFeatures.filter((f) => f !== 'thick');
  return { features: [...features], source: 'bundled' };
}

export interface ConformanceInput {
  build: string;
  plugin: string;
  environments: Environment[];
  claims: { features: string[]; source: ClaimsSource };
  /** Every extended feature the suite (features/) has, claimed or not. */
  suiteFeatures: readonly string[];
  /** The --tags expression when only part of the suite ran. */
  selection?: string;
  results: readonly ScenarioResult[];
}

export interface LevelOutcome {
  level: Level;
  /** core: always; extended: when claimed; quality: never. */
  required: boolean;
  claimed?: boolean;
  passed: string[];
  /** Everything not passed and not skipped with a reason (failed, undefined, silently skipped …). */
  failed: string[];
  skipped: string[];
}

export interface LevelProblem {
  scenario: string;
  problem: string;
}

export interface ConformanceReport {
  build: string;
  plugin: string;
  environments: Environment[];
  claimedFeatures: string[];
  claimsFrom: ClaimsSource;
  selection: string | null;
  levels: LevelOutcome[];
  levelProblems: LevelProblem[];
  conforms: boolean;
  /** Why it does not conform (empty when it does). */
  reasons: string[];
}

/** Levels in report order: core, every extended feature (sorted), quality. */
function levelOrder(suiteFeatures: readonly string[], seen: readonly Level[]): Level[] {
  const extended = [...new Set([...suiteFeatures.map((f): Level => `extended:${f}`), ...seen.filter((l) => extendedFeature(l) !== undefined)])].sort();
  return ['core', ...extended, 'quality'];
}

export function buildConformance(input: ConformanceInput): ConformanceReport {
  const claimed = new Set(input.claims.features);
  const levelProblems: LevelProblem[] = [];
  const byLevel = new Map<Level, ScenarioResult[]>();
  for (const r of input.results) {
    const found = levelOf(r.tags);
    if ('problem' in found) levelProblems.push({ scenario: scenarioId(r), problem: found.problem });
    else byLevel.set(found.level, [...(byLevel.get(found.level) ?? []), r]);
  }
  const levels = levelOrder(input.suiteFeatures, [...byLevel.keys()]).map((level): LevelOutcome => {
    const results = byLevel.get(level) ?? [];
    const feature = extendedFeature(level);
    const skipped = results.filter((r) => r.status === 'SKIPPED' && r.reason !== undefined);
    return {
      level,
      required: level === 'core' || (feature !== undefined && claimed.has(feature)),
      ...(feature !== undefined ? { claimed: claimed.has(feature) } : {}),
      passed: results.filter((r) => r.status === 'PASSED').map(scenarioId),
      failed: results.filter((r) => !scenarioOk(r)).map(scenarioId),
      skipped: skipped.map(scenarioId),
    };
  });

  const reasons: string[] = [];
  if (input.selection !== undefined) reasons.push(`only the scenarios matching --tags "${input.selection}" ran, not the whole suite`);
  if (levelProblems.length > 0) reasons.push(`${levelProblems.length} scenario(s) without exactly one level tag`);
  for (const outcome of levels.filter((l) => l.required)) {
    const name = outcome.level === 'core' ? 'core' : `${outcome.level} (claimed)`;
    const total = outcome.passed.length + outcome.failed.length + outcome.skipped.length;
    if (total === 0) reasons.push(`${name}: no scenario ran`);
    else if (outcome.failed.length + outcome.skipped.length > 0) reasons.push(`${name}: ${outcome.failed.length} failed, ${outcome.skipped.length} skipped`);
  }
  return {
    build: input.build,
    plugin: input.plugin,
    environments: [...input.environments],
    claimedFeatures: [...input.claims.features].sort(),
    claimsFrom: input.claims.source,
    selection: input.selection ?? null,
    levels,
    levelProblems,
    conforms: reasons.length === 0,
    reasons,
  };
}

function levelTitle(outcome: LevelOutcome): string {
  const counts = `${outcome.passed.length} passed, ${outcome.failed.length} failed, ${outcome.skipped.length} skipped`;
  if (outcome.level === 'core') return `@core (${counts})`;
  if (outcome.level === 'quality') return `@quality, beyond the specs (${counts})`;
  return `@${outcome.level}, ${outcome.claimed ? 'claimed' : 'not claimed'} (${counts})`;
}

/** The summary's scenario groups: one per level that has scenarios, then those without a level. */
export function levelGroups(report: ConformanceReport, results: readonly ScenarioResult[]): ScenarioGroup[] {
  const byId = new Map(results.map((r) => [scenarioId(r), r]));
  const pick = (ids: readonly string[]) => ids.map((id) => byId.get(id)).filter((r): r is ScenarioResult => r !== undefined);
  const groups: ScenarioGroup[] = report.levels
    .map((outcome) => ({ title: levelTitle(outcome), results: pick([...outcome.passed, ...outcome.failed, ...outcome.skipped]) }))
    .filter((g) => g.results.length > 0)
    .map((g) => ({ ...g, results: [...g.results].sort((a, b) => scenarioId(a).localeCompare(scenarioId(b))) }));
  if (report.levelProblems.length > 0) {
    groups.push({ title: 'Without exactly one level tag (fails the run)', results: pick(report.levelProblems.map((p) => p.scenario)) });
  }
  return groups;
}

/** One line CI logs and people read: the verdict and, when it does not conform, why. */
export function conformanceVerdict(report: ConformanceReport): string {
  const claims = report.claimedFeatures.length > 0 ? report.claimedFeatures.join(', ') : 'none';
  const head = `Conformance of ${report.build}: `;
  return report.conforms
    ? `${head}CONFORMS (all @core and claimed extended features passed; claimed: ${claims})`
    : `${head}DOES NOT CONFORM: ${report.reasons.join('; ')} (claimed: ${claims})`;
}

export function formatLevelProblems(report: ConformanceReport): string[] {
  return report.levelProblems.map((p) => `${p.scenario}: ${p.problem}`);
}
