// Prints the counts of one suite run for CI's closing tables: "31 passed, 0 failed, 18 skipped".
// Argument: the run's summary.json (reports/summary.ts); a missing or unreadable one is said so.
import { readFileSync } from 'node:fs';

const [path] = process.argv.slice(2);
try {
  const { passed, failed, skipped } = JSON.parse(readFileSync(path, 'utf8'));
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
} catch (err) {
  console.log(`no summary (${path}: ${err.code ?? err.message})`);
}
