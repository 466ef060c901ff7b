// Puts the vm sub-run's Allure results beside the host run's, labels every result with its conformance
// level, and puts run-wide files (latency, conformance) into Allure as global attachments, so one Allure
// report covers the whole run.
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { levelOf } from './conformance.ts';

/** Copies every result file of `from` into `into` (Allure file names are UUIDs, so they do not clash). */
export async function mergeAllureResults(from: string, into: string): Promise<number> {
  if (!existsSync(from)) return 0;
  await mkdir(into, { recursive: true });
  const files = await readdir(from);
  for (const file of files) await copyFile(path.join(from, file), path.join(into, file));
  return files.length;
}

/** Adds files as Allure 3 global attachments (`<uuid>-globals.json`) shown on the report's overview. */
export async function addGlobalAttachments(resultsDir: string, files: { name: string; path: string; type: string }[]): Promise<void> {
  await mkdir(resultsDir, { recursive: true });
  const attachments = [];
  for (const file of files.filter((f) => existsSync(f.path))) {
    const source = `${randomUUID()}-attachment${path.extname(file.path)}`;
    await copyFile(file.path, path.join(resultsDir, source));
    attachments.push({ name: file.name, type: file.type, source, timestamp: Date.now() });
  }
  if (attachments.length === 0) return;
  await writeFile(path.join(resultsDir, `${randomUUID()}-globals.json`), JSON.stringify({ attachments, errors: [] }));
}

interface AllureResult {
  labels?: { name: string; value: string }[];
}

/**
 * Gives every test result its conformance level (from its tag labels, which allure-cucumberjs fills with
 * the pickle's tags, feature tags included) as the `epic` label (Allure's Behaviors view groups
 * epic → feature → scenario) and as `parentSuite` (the Suites view), so both views group by level.
 * Done after the vm results are merged so host and vm results look the same. Returns how many it labelled.
 */
export async function labelConformanceLevels(resultsDir: string): Promise<number> {
  if (!existsSync(resultsDir)) return 0;
  let labelled = 0;
  for (const file of (await readdir(resultsDir)).filter((f) => f.endsWith('-result.json'))) {
    const full = path.join(resultsDir, file);
    const result = JSON.parse(await readFile(full, 'utf8')) as AllureResult;
    const labels = result.labels ?? [];
    const found = levelOf(labels.filter((l) => l.name === 'tag').map((l) => l.value));
    const level = 'level' in found ? found.level : 'no level tag';
    result.labels = [...labels.filter((l) => l.name !== 'epic' && l.name !== 'parentSuite'), { name: 'epic', value: level }, { name: 'parentSuite', value: level }];
    await writeFile(full, JSON.stringify(result));
    labelled += 1;
  }
  return labelled;
}
