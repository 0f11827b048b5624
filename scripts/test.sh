#!/usr/bin/env bash
# The test command: sets up the host (packages, npm deps, labos image), type-checks, and runs the
# whole ava suite, including the real VM scenarios. Ends with "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc --noEmit
node scripts/run-tests.mjs "$@"
