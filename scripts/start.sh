#!/usr/bin/env bash
# `npm start`: everything a fresh machine needs, then the conformance suite on the local provider
# against the bundled plugin. Extra arguments go to `multus-e2e run` (e.g. npm start -- --tags @macvlan).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
bash scripts/install-npm-deps.sh
npm run --silent build
exec node bin/multus-e2e.mjs run "$@"
