#!/usr/bin/env bash
# GPTQ layer at Qwen3-30B-A3B geometry before vs after the CPU kernels, alternating so a shared machine's load hits
# both alike: builds GptqMoeBench from commit $BASE (the tree before issue 19) into a temporary directory and from this
# tree, then runs before/after in turn for $ROUNDS rounds. Writes bench/results/gptq-layer-{before,after}-R.json
# (bench/cpu_results.py takes the medians; the log of loads is appended to). Usage:
# bench/gptq_before_after.sh [ROUNDS] [BASE] [FIRST_ROUND_NUMBER]
set -euo pipefail
ROUNDS=${1:-3}
BASE=${2:-3938271}
FIRST=${3:-1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BEFORE=$(mktemp -d /tmp/routecal-before.XXXXXX)
trap 'rm -rf "$BEFORE"' EXIT
git -C "$ROOT" archive "$BASE" | tar -x -C "$BEFORE"
# the same harness on both sides (it only calls APIs that exist at $BASE): this tree's GptqMoeBench, with its warm-up
cp "$ROOT/lib/src/main/java/org/routecal/quant/bench/GptqMoeBench.java" "$BEFORE/lib/src/main/java/org/routecal/quant/bench/"
(cd "$BEFORE" && mvn -o -q -B -Dstyle.color=never -pl lib -am -DskipTests compile)
(cd "$ROOT" && mvn -o -q -B -Dstyle.color=never -pl lib -am -DskipTests compile)
JAVA=(java --add-modules jdk.incubator.vector -Xmx6g)
LOG="$ROOT/bench/results/gptq-before-after.log"
exec > >(tee -a "$LOG") 2>&1
for r in $(seq "$FIRST" $((FIRST + ROUNDS - 1))); do
  echo "round $r before, load $(cut -d' ' -f1-3 /proc/loadavg)"
  "${JAVA[@]}" -cp "$BEFORE/lib/target/classes" org.routecal.quant.bench.GptqMoeBench --experts 2 \
      --out "$ROOT/bench/results/gptq-layer-before-$r.json" > /dev/null 2>&1
  echo "round $r after, load $(cut -d' ' -f1-3 /proc/loadavg)"
  "${JAVA[@]}" -cp "$ROOT/lib/target/classes" org.routecal.quant.bench.GptqMoeBench --experts 4 \
      --out "$ROOT/bench/results/gptq-layer-after-$r.json" > /dev/null 2>&1
done
echo "done, load $(cut -d' ' -f1-3 /proc/loadavg)"
