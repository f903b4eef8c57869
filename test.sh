#!/usr/bin/env bash
# The test command README gives: builds everything and runs every test (unit, HF parity, CLI, README commands, demo,
# notebooks through a real Jupyter client, reports in headless Chromium). It prints only what failed, then one summary
# line with the reasons for skipped tests; Maven's full output goes to target/test.log. Extra arguments go to Maven
# (e.g. ./test.sh -o -Dtest='Serve*Test' -Dsurefire.failIfNoSpecifiedTests=false).
set -uo pipefail
cd "$(dirname "$0")"
log=target/test.log
reports=(lib/target/surefire-reports kernel-extension/target/surefire-reports)
mkdir -p target
rm -rf "${reports[@]}"
echo "test.sh: building and running every test (about 20 minutes on 2 cores); full log: $log"

# -Dstyle.color=never: no ANSI escape codes in the log or in anything shown from it.
# -Dmaven.test.failure.ignore: a failing lib test must not hide the kernel-extension results; the exit status comes
# from the reports below.
# timeout: whatever happens, the run ends with its summary inside CI's 90 minutes (it takes about 7 on 2 cores).
timeout -k 60 "${TEST_TIMEOUT:-75m}" mvn -B -Dstyle.color=never -Dmaven.test.failure.ignore=true verify "$@" >"$log" 2>&1 &
mvn_pid=$!
# as it happens: each module as it starts, each failing test as it fails (Surefire's "[ERROR] Class.method -- Time
# elapsed: … <<< FAILURE!" lines) and each module's test totals
tail -n +1 -F --pid="$mvn_pid" "$log" 2>/dev/null \
  | sed -nu -E -e 's/^\[INFO\] Building (routecal.*[^ ]) +\[[0-9]+\/[0-9]+\]$/test.sh: module \1/p' \
      -e 's/^\[ERROR\] ([^ ]+) -- Time elapsed: .* <<< (FAILURE|ERROR)!$/failed: \1/p' \
      -e 's/^\[(INFO|WARNING|ERROR)\] (Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+)$/test.sh: \2/p' &
watcher=$!
# every 5 minutes, which test class is running (a run that seems stuck says where)
( start=$SECONDS
  while kill -0 "$mvn_pid" 2>/dev/null; do
    sleep 10 >/dev/null 2>&1 # no orphan holds the output open when the loop is killed
    if (( (SECONDS - start) % 300 < 10 && SECONDS - start >= 300 )); then
      echo "test.sh: $(( (SECONDS - start) / 60 )) min; last started: $(grep -o 'Running org[^ ]*' "$log" | tail -1)"
    fi
  done ) &
heartbeat=$!
wait "$mvn_pid"
status=$?
wait "$watcher" 2>/dev/null
kill "$heartbeat" 2>/dev/null; wait "$heartbeat" 2>/dev/null
[ $status -eq 124 ] && echo "test.sh: stopped after ${TEST_TIMEOUT:-75m}; last started: $(grep -o 'Running org[^ ]*' "$log" | tail -1)"

shopt -s nullglob
txt=() xml=()
for d in "${reports[@]}"; do txt+=("$d"/*.txt); xml+=("$d"/TEST-*.xml); done

# why each failure failed: the line after its name in the per-class report (the exception and its message)
if [ ${#txt[@]} -gt 0 ]; then
  awk '/<<< (FAILURE|ERROR)!/ && !/^Tests run:/ { name = $1; getline; sub(/^[A-Za-z0-9_.$]+(Error|Exception|Failure)[A-Za-z]*: /, ""); printf "  %s: %.200s\n", name, $0 }' "${txt[@]}"
fi
# a build that failed before or besides the tests (compilation, packaging): Maven's own errors
if [ $status -ne 0 ] && ! grep -q '<<< \(FAILURE\|ERROR\)!' "$log"; then
  grep -E '^\[ERROR\]' "$log" | grep -vE 'Re-run Maven|-> \[Help|^\[ERROR\] *$|To see the full|For more information|Help 1\]|resume the build|mvn <args>' | head -20
fi

read -r passed failed skipped < <(cat "${txt[@]}" /dev/null | awk '/^Tests run:/ { gsub(",", ""); run += $3; fail += $5; err += $7; skip += $9 }
  END { print run - fail - err - skip, fail + err, skip + 0 }')
echo "$passed passed, $failed failed, $skipped skipped (full log: $log)"
# the distinct reasons tests were skipped (a missing chromium or nbclient shows up here)
if [ ${#xml[@]} -gt 0 ]; then
  # an assumption's reason is in the CDATA after <skipped …>; @Disabled puts it in message="…"
  { grep -ho 'Assumption failed: .*' "${xml[@]}" | sed 's/^Assumption failed: //'
    grep -ho '<skipped message="[^"]*"' "${xml[@]}" | sed -e 's/^<skipped message="//' -e 's/"$//' \
      -e "s/&apos;/'/g" -e 's/&quot;/"/g' -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g'
  } | sort | uniq -c | sort -rn | head -10 | sed -E 's/^ *([0-9]+) (.*)/  skipped \1: \2/'
fi
[ "$failed" -gt 0 ] && [ $status -eq 0 ] && status=1
exit $status
