// Prints one closing line for CI over both test runners: "tests: N passed, N failed, N skipped".
// Arguments: vitest's JSON report, then the suite's reports/summary.json; a missing file counts as a failure.
import { readFileSync } from 'node:fs';

const [vitestJson, suiteJson] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;

function read(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    console.error(`closing line: cannot read ${path}: ${err.message}`);
    failed += 1;
    return undefined;
  }
}

const vitest = read(vitestJson);
if (vitest) {
  passed += vitest.numPassedTests;
  failed += vitest.numFailedTests;
  skipped += vitest.numPendingTests + vitest.numTodoTests;
}
const suite = read(suiteJson);
if (suite) {
  passed += suite.passed;
  failed += suite.failed;
  skipped += suite.skipped;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
