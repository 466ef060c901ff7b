// What the CLI hands to the cucumber process about the run: which cluster to attach to, where reports go,
// which tags must be skipped and why. Passed as a JSON file named by MULTUS_E2E_STATE.
import { readFileSync, writeFileSync } from 'node:fs';
import type { PluginUnderTest } from '../clusters/provider.ts';

export const RUN_STATE_ENV = 'MULTUS_E2E_STATE';
/** The run state's file name in the cluster's work dir (`multus-e2e run` writes it; `cluster down` removes a kept run's). */
export const RUN_STATE_FILE = 'suite-run.json';

export interface RunState {
  /** Provider of the cluster the scenarios use. */
  provider: 'local' | 'kind';
  name: string;
  workDir: string;
  plugin: PluginUnderTest;
  reportsDir: string;
  /** Tag → reason: scenarios with the tag are skipped with that reason printed. */
  skipReasons: Record<string, string>;
  /** Where this cucumber process runs, for the summary ("host" or "vm"). */
  where: 'host' | 'vm';
}

export function writeRunState(file: string, state: RunState): void {
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
}

export function readRunState(file: string): RunState {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunState>;
  for (const key of ['provider', 'name', 'workDir', 'plugin', 'reportsDir'] as const) {
    if (parsed[key] === undefined) throw new Error(`${RUN_STATE_ENV} file ${file} lacks "${key}"`);
  }
  return { skipReasons: {}, where: 'host', ...parsed } as RunState;
}
