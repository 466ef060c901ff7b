// Runs the Gherkin suite in a child cucumber-js process (TypeScript steps through tsx, or their esbuild
// bundle), and counts what a tag expression selects without running anything.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfiguration, loadSources } from '@cucumber/cucumber/api';
import { BUNDLE_DIR_ENV, SUPPORT_BUNDLE } from '../clusters/local/node-script.ts';
import type { SuiteIndex } from '../expectations/expectations.ts';
import { runInherited } from './child-process.ts';
import { CUCUMBER_BIN, CUCUMBER_CONFIG, PACKAGE_ROOT } from './paths.ts';

async function plannedScenarios(tags: string | undefined): Promise<{ uri: string; name: string }[]> {
  const environment = { cwd: PACKAGE_ROOT, stdout: process.stderr, stderr: process.stderr };
  const { runConfiguration } = await loadConfiguration({ file: CUCUMBER_CONFIG, provided: tags ? { tags } : {} }, environment);
  const { plan, errors } = await loadSources(runConfiguration.sources, environment);
  if (errors.length > 0) throw new Error(`the features do not parse: ${errors.map((e) => e.message).join('; ')}`);
  return plan;
}

/** Ids ("<uri>: <name>") of the scenarios a tag expression selects (parses the features only). */
export async function selectedScenarios(tags: string | undefined): Promise<string[]> {
  return (await plannedScenarios(tags)).map((p) => `${p.uri}: ${p.name}`);
}

/**
 * Every scenario id of the suite and every extended feature it has (the @extended:<feature> tags written
 * in its feature files), for validating expectation files and claims.
 */
export async function suiteIndex(): Promise<SuiteIndex> {
  const plan = await plannedScenarios(undefined);
  const features = new Set<string>();
  for (const uri of new Set(plan.map((p) => p.uri))) {
    const text = await readFile(path.resolve(PACKAGE_ROOT, uri), 'utf8');
    for (const m of text.matchAll(/(?:^|\s)@extended:([a-z0-9][a-z0-9-]*)(?=\s|$)/gm)) features.add(m[1]!);
  }
  return { scenarioIds: new Set(plan.map((p) => `${p.uri}: ${p.name}`)), extendedFeatures: [...features].sort() };
}

export interface CucumberRun {
  tags: string | undefined;
  reportsDir: string;
  env: Record<string, string>;
}

/** Runs cucumber-js to completion; output goes straight to this terminal. Resolves its exit code. */
export function runCucumberProcess(run: CucumberRun, onChild?: (pid: number) => void): Promise<number> {
  // From a bundle (clusters/vm/guest-bundle.ts) the support code is one plain file: no tsx.
  const bundleDir = process.env[BUNDLE_DIR_ENV];
  const support = bundleDir ? ['--profile', 'bundled', '--import', path.join(bundleDir, SUPPORT_BUNDLE)] : [];
  const args = [...(bundleDir ? [] : ['--import', 'tsx']), CUCUMBER_BIN, '--config', CUCUMBER_CONFIG, ...support, ...(run.tags ? ['--tags', run.tags] : [])];
  return runInherited(process.execPath, args, { env: { ...process.env, ...run.env, MULTUS_E2E_REPORTS_DIR: run.reportsDir }, ...(onChild ? { onChild } : {}) });
}
