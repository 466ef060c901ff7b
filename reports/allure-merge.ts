// Puts the vm sub-run's Allure results beside the host run's, and run-wide files (latency report) into
// Allure as global attachments, so one Allure report covers the whole run.
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';

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
