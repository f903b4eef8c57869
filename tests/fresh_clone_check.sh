#!/usr/bin/env bash
# Fresh-machine check (issue 7): clone the repository into an empty directory, use an empty local Maven repository and
# no caches (DJL, routecal), and run exactly README's two commands, timing each. Usage:
#   tests/fresh_clone_check.sh [REPO_URL_OR_PATH] [WORK_DIR]
# Needs network access to the Maven repository the machine is configured with. Prints a timing table at the end.
set -euo pipefail
repo="${1:-$(git rev-parse --show-toplevel)}"
work="${2:-$(mktemp -d /tmp/routecal-fresh.XXXXXX)}"
mkdir -p "$work"
export HOME="$work/home"                         # no ~/.djl.ai, ~/.cache/routecal, ~/.m2 from earlier runs
mkdir -p "$HOME"
export MAVEN_OPTS="-Dmaven.repo.local=$work/m2 ${MAVEN_OPTS:-}"
export DJL_CACHE_DIR="$work/djl"
export ROUTECAL_CACHE="$work/routecal-cache"
git clone -q "$repo" "$work/routecal"
cd "$work/routecal"
# README's two commands, verbatim:
main_cmd=$(grep -m1 -E '^\./routecal demo' README.md | sed 's/ *#.*//')
test_cmd=$(grep -m1 -E '^\./test\.sh' README.md | sed 's/ *#.*//')
t0=$(date +%s); bash -c "$main_cmd"; t1=$(date +%s)
bash -c "$test_cmd"; t2=$(date +%s)
test -f runs/demo/report.html
echo "fresh clone check: '$main_cmd' $((t1 - t0)) s (incl. first build and dependency download), '$test_cmd' $((t2 - t1)) s"
