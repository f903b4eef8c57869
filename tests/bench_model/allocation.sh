#!/usr/bin/env bash
# Per-expert bit allocation on the trained benchmark model (issue: stage 0 round 2): uniform W3 and W4 experts against
# --bits-budget allocations at the same stored size, all with GPTQ g32 (attention at W4 in every run, so only the
# experts differ), evaluated together on the held-out set with bootstrap intervals and paired differences.
# Usage: bash tests/bench_model/allocation.sh [WORK_DIR]   (about 6 minutes on 2 cores)
# Writes tests/bench_model/results/allocation.json and allocation.md (rendered by allocation_table.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-runs/bench-allocation}
bm=tests/bench_model
mkdir -p "$work"
common=(--model $bm/model --corpus $bm/calib.jsonl --scheme w4a16 --group-size 32 --algorithm gptq --device cpu)

# the target usage: routing of the pool (same domains as the held-out set, disjoint texts)
[ -f "$work/pool-route/manifest.json" ] || ./routecal route --model $bm/model --corpus $bm/pool.jsonl --out "$work/pool-route" --device cpu

q() { local name=$1; shift; [ -f "$work/$name/manifest.json" ] || ./routecal quantize "${common[@]}" --out "$work/$name" "$@"; }
# stored bits per expert weight at group size 32 (bf16 scales and g_idx included): W2 2.521, W3 3.521, W4 4.521;
# 4.021 is the midpoint, 3.5 bits of codes on average. The uniform runs go through the same allocation path with
# one width feasible per layer: at 3.6 one W4 layer (+1/6) does not fit; at 4.6 all-W4 fits and errs least.
q w3-uniform    --bits 3,4 --bits-budget 3.6 --allocation-granularity layer
q w4-uniform    --bits 3,4 --bits-budget 4.6 --allocation-granularity layer
q alloc-layer   --bits 2,3,4 --bits-budget 4.021 --allocation-granularity layer
q alloc-expert  --bits 2,3,4 --bits-budget 4.021 --allocation-granularity expert
q alloc-expert-34 --bits 3,4 --bits-budget 4.021 --allocation-granularity expert
q alloc-expert-pool --bits 2,3,4 --bits-budget 4.021 --allocation-granularity expert --usage-run "$work/pool-route"
q alloc-expert-w3size --bits 2,3,4 --bits-budget 3.521 --allocation-granularity expert   # the size of uniform W3
# routing-blind: the same knapsack with every expert weighing the same (sensitivity only), what routing adds
q blind-expert  --bits 2,3,4 --bits-budget 4.021 --allocation-granularity expert --allocation-usage uniform
q blind-expert-w3size --bits 2,3,4 --bits-budget 3.521 --allocation-granularity expert --allocation-usage uniform

runs=(w3-uniform alloc-expert-w3size blind-expert-w3size alloc-layer alloc-expert blind-expert alloc-expert-34 alloc-expert-pool w4-uniform)
# one pass per baseline: every allocation paired against uniform W3 and W4, and the routing-blind runs against the
# routing-aware ones of their size (same resamples)
for base in w3-uniform w4-uniform alloc-expert alloc-expert-w3size; do
  ./routecal evaluate --model $bm/model --corpus $bm/heldout.jsonl --out "$work/eval-vs-$base" --overwrite --device cpu \
      --quantized "${runs[@]/#/$work/}" --baseline $base --bootstrap 1000 --bootstrap-seed 0 --max-tokens-per-sample 128
done
python3 $bm/allocation_table.py "$work" $bm/results
