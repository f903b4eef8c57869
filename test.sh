#!/usr/bin/env bash
# The test command README gives: builds everything and runs every test (unit, parity, CLI, notebook, report).
set -euo pipefail
cd "$(dirname "$0")"
mvn -B -q verify "$@"
