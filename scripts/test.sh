#!/usr/bin/env bash
# The project's test command (`npm test`): installs what is missing, builds, typechecks, lints, runs the
# unit and integration tests (vitest) and the Gherkin conformance suite on the local provider, with
# scenarios this kernel cannot run sent to the vm provider. Needs root on Linux.
set -euo pipefail
cd "$(dirname "$0")/.."

phase() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

phase "dependencies"
bash scripts/install-system-deps.sh
bash scripts/install-npm-deps.sh

phase "build"
npm run --silent build

phase "typecheck"
npm run --silent typecheck

phase "lint"
npm run --silent lint

mkdir -p reports/out
status=0
phase "unit and integration tests (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json=reports/out/vitest.json || status=1

phase "conformance suite (multus-e2e run)"
node bin/multus-e2e.mjs run || status=1

node scripts/closing-line.mjs reports/out/vitest.json reports/summary.json
exit $status
