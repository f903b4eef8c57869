#!/usr/bin/env bash
# The test command README gives: builds everything and runs every test (unit, HF parity, CLI, demo, notebooks through
# a real Jupyter client, report rendering in headless Chromium). Ends with one summary line from the Surefire reports.
set -uo pipefail
cd "$(dirname "$0")"
rm -rf lib/target/surefire-reports kernel-extension/target/surefire-reports
mvn -B -q verify "$@"
status=$?
cat lib/target/surefire-reports/*.txt kernel-extension/target/surefire-reports/*.txt 2>/dev/null \
  | awk '/^Tests run:/ { gsub(",", ""); run += $3; fail += $5; err += $7; skip += $9 }
         END { printf "%d passed, %d failed, %d skipped\n", run - fail - err - skip, fail + err, skip }'
exit $status
