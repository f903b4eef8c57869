#!/usr/bin/env bash
# Every GPU check and benchmark of routecal, on the GPU machine, in named phases so one device call can take several:
#   bash tests/gpu/run_gpu.sh setup parity numerics quantize demo      (call 1)
#   bash tests/gpu/run_gpu.sh setup bench big                          (call 2)
# Phases:
#   setup     nvidia-smi, the JRE (.device/jre.tar.xz) and the jar (.device/routecal-device.jar.xz), PTX loads
#   parity    BackendParity (every backend op, fp32 and bf16, vs the scalar CPU reference) and GpuParity (kernels)
#   numerics  HF transformers fp32/bf16 vs our engine on cpu/fp32, cuda/fp32, cuda/bf16 (tests/gpu/hf_numerics.py +
#             org.routecal.bench.ModelNumerics) on the family fixtures, scaled-router copies, the demo model and a
#             2-layer Qwen3-30B-A3B-geometry model
#   quantize  the demo model quantized on cuda (fp32 and bf16) and on the cpu: codes compared (CheckpointDiff), all
#             three evaluated against the original on held-out text (KL). QUANT_ARGS adds quantize options, e.g.
#             QUANT_ARGS=--no-sequential QUANT_RUNS="cpu/fp32 cuda/fp32" compares the solvers on the same (original)
#             activations in every layer: the 99.1 % of 2026-12-05 fell with depth as quantized layers fed the next
#   demo      `routecal demo --device auto` (must pick the GPU); evidence.json compared with the CPU run's
#   bench     HF routing pass (tests/gpu/hf_bench.py) and ours (org.routecal.bench.EngineBench) on one 4-layer
#             Qwen3-30B-A3B-geometry checkpoint, 1×2048 and 8×2048 tokens, resident (with GPU time per kernel) and
#             streamed; BENCH_QUICK=1 stops after the resident run
#   gemm      org.routecal.bench.GemmBench (every gemm_bf16.cu variant at 8192³, the attention projections and the
#             grouped expert shapes) beside torch's matmul/grouped_mm on the same shapes (tests/gpu/torch_gemm_bench.py),
#             then the routing pass with GEMM variant 1 (after bench, which writes the checkpoint)
#   big       a 48-layer Qwen3-30B-A3B-geometry checkpoint written by transformers (make_geometry.py; BIG_HF=1:
#             hf_bench.py, timing HF's pass too): our routing pass, then `routecal route --device cuda` and `routecal
#             quantize --device cuda` on it; too long for one 10-minute call, so also as big1 (checkpoint + routing
#             pass), big2 (route) and big3 (quantize), one call each while the machine stays warm ($WORK survives)
#   cpu16     the CPU side by side on this machine's 16 cores (issue 19.4): routecal's CPU forward vs HF transformers'
#             fp32/bf16 forward, and one Qwen3-30B-A3B-geometry GPTQ layer vs the PyTorch reference GPTQ
#             (tests/cpu/side_by_side.py; the same script ran on the 2-core build box: bench/CPU-RESULTS.md)
#   tune16    the matmul blocking on this machine's cores: PanelBlockingSweep (every Blocking on the forward's products,
#             JSON), the side-by-side forward (no GPTQ; fp32 and bf16) with the defaults and fp32 with the sweep's best,
#             a JFR profile of the forward, and its warm-up curve with and without a pre-touched heap (jdk.jfr in the
#             JRE and the sweep: DEVICE_BENCH=1 bash bench/gpu/device_jar.sh; ~7 min)
#   sweep16   tune16's sweep alone; SWEEP_ARGS='--grid "512,64,128,4,false;512,512,128,2,balanced"' times only those
#             blockings (the first is the baseline), SWEEP_SAMPLES (3) samples each; SWEEP_PROPS="p=a p=b" runs one
#             sweep (its own JVM and file) per JVM property setting, e.g. routecal.spinMicros=0 routecal.spinMicros=500
#   scale16ab the scaling bench at SCALE_THREADS (16) threads with a JVM property at each of AB_VALUES, twice, alternating
#             (AB_PROP, default routecal.keepPackedX)
#   scale16   the panel matmul at 1, 2, 4, 8 and 16 threads, f32 and bf16 panels, against the FMA peak at each count
#             (PanelBlockingSweep --scaling; where per-thread speed is lost on 16 cores; DEVICE_BENCH=1 jar, ~3 min)
#   sbs16     the side-by-side forward only (no GPTQ), then routecal's forward with the first default blocking
#             (SBS_BLOCKINGS) and with the default again, each after WARMUP (12) seconds of untimed passes; then once per
#             JVM option in SBS_OPTS (e.g. "-Droutecal.spinMicros=0 default -Droutecal.spinMicros=0 default")
#   multi1    the several-device code path on ONE GPU: the demo model quantized with --devices 0, 0,0 and 0,0,0 (logical
#             devices sharing GPU 0), codes compared (CheckpointDiff); runs on the one-GPU machine
#   multi     scaling on several GPUs (nvidia-h200-x8; issue 20): a 48-layer Qwen3-30B-A3B-geometry checkpoint and a
#             DeepSeek-V3-geometry slice (1 dense + 2 MoE layers, 256 experts, hidden 7168), both written by
#             tests/gpu/make_geometry.py, quantized (W4A16 g128 GPTQ, hybrid) on 1, 2, 4 and 8 GPUs with --devices;
#             time, speed-up, efficiency and codes vs one GPU (bench/gpu/results.py renders them). Subsets:
#             MULTI_MODELS="q48 dsv3", MULTI_GPUS="1 2 4 8", MULTI_SAMPLES=256 (x 2048 tokens). The host reduction keeps
#             a quarter of the heap for partial Hessians: run it with HEAP=256g, e.g.
#               HEAP=256g MULTI_MODELS=q48 bash tests/gpu/run_gpu.sh setup multi       (call 1, ~15 min with the checkpoint)
#               HEAP=256g MULTI_MODELS=dsv3 MULTI_GPUS="1 8" bash tests/gpu/run_gpu.sh setup multi   (call 2)
# JOPTS adds JVM options to every Java run, e.g. JOPTS=-Droutecal.tensorCoreAttention=false; PARITY_ARGS=--small makes
# BackendParity's products quarter-size (about a minute instead of four).
# Everything lands in $OUT (the device tool's output folder; bench/gpu/out by default), or with PACK=NAME in one
# $OUT/NAME.tgz with the log (the tool returns only about 8 files; calls lost JSON to that). Prepare on the build machine:
#   mvn -o -q -B -Pdevice -pl lib -am package -DskipTests && bash bench/gpu/device_jar.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/gpu/out}
mkdir -p "$OUT"
if [ -n "${PACK:-}" ]; then
  # The device tool returns only a few files per call: with PACK=NAME everything goes to a private folder and is packed
  # into $OUT/NAME.tgz (with the log) when the script ends; after a timeout's TERM, once the running command has
  # stopped (best effort: give it a few seconds before the call returns).
  PACKED_TO=$OUT; OUT=$(mktemp -d /tmp/routecal-out.XXXXXX)
  exec > >(tee "$OUT/log.txt") 2>&1
  pack() { trap - EXIT TERM INT; sleep 1; tar czf "$PACKED_TO/$PACK.tgz" -C "$OUT" .; echo "packed $PACKED_TO/$PACK.tgz"; }
  trap pack EXIT
  trap 'pack; exit 124' TERM INT
fi
WORK=${WORK:-/dev/shm/routecal}
mkdir -p "$WORK"
export PYTHONUNBUFFERED=1
log() { echo "== $(date +%T) $*"; }

if ! command -v java >/dev/null 2>&1; then
  mkdir -p /tmp/jre && tar xJf .device/jre.tar.xz -C /tmp/jre && export PATH=/tmp/jre/bin:$PATH
fi
JAR=$WORK/routecal.jar
[ -f "$JAR" ] || xz -dc .device/routecal-device.jar.xz > "$JAR"
JTMP=$(mktemp -d /tmp/routecal-jcuda.XXXXXX) # JCuda unpacks its native library here
J="java --add-modules jdk.incubator.vector -Xmx${HEAP:-64g} -XX:+UseG1GC -XX:G1HeapRegionSize=32m -Djava.io.tmpdir=$JTMP ${JOPTS:-} -cp $JAR"
R="$J org.routecal.cli.Main"
run() { log "$*"; "$@"; local rc=$?; [ $rc -eq 0 ] || echo "!! exit $rc: $*"; return 0; }

demo_assets() { [ -f "$WORK/demo/model/model.safetensors" ] || $R demo-assets --out "$WORK/demo" >/dev/null; }

phase_setup() {
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
  java -version 2>&1 | head -1
  run $J org.routecal.compute.cuda.CudaAvailability
}

phase_parity() {
  run $J org.routecal.compute.devices.BackendParity --device cuda --precision both ${PARITY_ARGS:-} --out "$OUT/backend_parity.json" > "$OUT/backend_parity.txt" 2>&1
  grep -E "FAIL|checks passed" "$OUT/backend_parity.txt"
  if [ "${GPU_PARITY:-0}" = 1 ]; then
    run timeout 240 $J org.routecal.compute.cuda.GpuParity --out "$OUT/gpu_parity.json" > "$OUT/gpu_parity.txt" 2>&1
    grep -E "FAIL|pass" "$OUT/gpu_parity.txt" | tail -5
  fi
}

numerics_one() { # name model-dir [extra hf args]
  local name=$1 model=$2; shift 2
  run python3 tests/gpu/hf_numerics.py --model "$model" --out "$WORK/num/$name" --sequences 4 --length 256 "$@" | tail -1
  local m=$model
  [ -d "$WORK/num/$name-model" ] && m=$WORK/num/$name-model
  run $J org.routecal.bench.ModelNumerics --model "$m" --hf "$WORK/num/$name" --runs "${NUM_RUNS:-cpu/fp32,cuda/fp32,cuda/bf16}" \
      --out "$OUT/numerics_$name.json" 2>&1 | grep -o "comparison=[^,]*, token_layers=[0-9]*, topk_agreement=[0-9.E-]*\|logits_nmse=[0-9.E-]*"
}

phase_numerics() { # NUMERICS="qwen3_moe mixtral-scaled demo q30b …" picks a subset (default: all)
  demo_assets
  local all="qwen3_moe qwen2_moe mixtral olmoe deepseek_v3 glm4_moe gpt_oss llama4_text qwen3_moe-scaled mixtral-scaled demo q30b q30b-scaled"
  for n in ${NUMERICS:-$all}; do
    local base=${n%-scaled} model extra=()
    case $base in
      demo) model=$WORK/demo/model ;;
      q30b)
        [ -d "$WORK/q2" ] || run python3 tests/gpu/hf_bench.py --layers 2 --seq 256 --reps 1 --skip-gptq --out "$OUT/hf_q2.json" --save-checkpoint "$WORK/q2" > /dev/null
        model=$WORK/q2 ;;
      *) model=tests/fixtures/models/$base/v1 ;;
    esac
    [ "$n" != "$base" ] && extra=(--scale-router 8 --save-scaled "$WORK/num/$n-model")
    numerics_one "$n" "$model" "${extra[@]}"
  done
}

phase_quantize() {
  demo_assets
  local d=$WORK/demo q=$WORK/quant
  rm -rf "$q"; mkdir -p "$q"
  for dev in ${QUANT_RUNS:-cpu/fp32 cuda/fp32 cuda/bf16}; do
    local n=${dev/\//-}
    log "quantize demo model on $dev"
    ( time $R quantize --model "$d/model" --corpus "$d/corpus.jsonl" --out "$q/$n" --scheme w4a16 --group-size 32 \
        --moe-mode hybrid --device "${dev%/*}" --precision "${dev#*/}" ${QUANT_ARGS:-} ) > "$OUT/quantize_$n.txt" 2>&1
    tail -4 "$OUT/quantize_$n.txt"
    cp "$q/$n/manifest.json" "$OUT/quantize_${n}_manifest.json" 2>/dev/null
  done
  local runs=(${QUANT_RUNS:-cpu/fp32 cuda/fp32 cuda/bf16}) dirs=()
  for dev in "${runs[@]}"; do dirs+=("$q/${dev/\//-}"); done
  for d2 in "${dirs[@]:1}"; do
    run $J org.routecal.quant.ct.CheckpointDiff "${dirs[0]}" "$d2" --out "$OUT/diff_${dirs[0]##*/}_vs_${d2##*/}.json" | grep fraction_equal
  done
  run $R evaluate --model "$d/model" --quantized "${dirs[@]}" --corpus "$d/pool.jsonl" --max-samples 96 --out "$q/eval" \
      --device "${EVAL_DEVICE:-cuda}" --precision fp32 | tee "$OUT/quantize_eval.txt"
  cp "$q/eval/eval.json" "$OUT/quantize_eval.json" 2>/dev/null
}

phase_demo() {
  rm -rf "$WORK/demo-run"
  ( time $R demo --out "$WORK/demo-run" --cache "$WORK/cache" ${DEMO_ARGS:-} ) > "$OUT/demo.txt" 2>&1
  grep -E "routecal: device|real" "$OUT/demo.txt" | head -3
  cp "$WORK/demo-run/evidence.json" "$OUT/demo_evidence_gpu.json" 2>/dev/null
  cp "$WORK/demo-run/manifest.json" "$OUT/demo_manifest_gpu.json" 2>/dev/null
  [ -f bench/gpu/demo_evidence_cpu.json ] && python3 tests/gpu/compare_evidence.py bench/gpu/demo_evidence_cpu.json "$OUT/demo_evidence_gpu.json" | tee "$OUT/demo_compare.txt"
}

phase_bench() {
  local quick=()
  [ "${BENCH_QUICK:-0}" = 1 ] && quick=(--skip-gptq)
  [ -d "$WORK/q4" ] || run python3 tests/gpu/hf_bench.py --layers 4 --seq 2048 --batch 1 --reps 5 "${quick[@]}" --out "$OUT/hf_bench_4l_b1.json" --save-checkpoint "$WORK/q4"
  run python3 tests/gpu/hf_bench.py --layers 4 --seq 2048 --batch 8 --reps 5 --skip-gptq --out "$OUT/hf_bench_4l_b8.json"
  run $J org.routecal.bench.EngineBench --model "$WORK/q4" --device cuda --batches 1,8 --seq 2048 --repeats 5 --profile --out "$OUT/engine_4l.json"
  [ "${BENCH_QUICK:-0}" = 1 ] && return 0
  run $J org.routecal.bench.EngineBench --model "$WORK/q4" --device cuda --batches 1,8 --seq 2048 --repeats 3 --streamed --out "$OUT/engine_4l_streamed.json"
  run $J org.routecal.bench.EngineBench --model "$WORK/q4" --device cuda --precision fp32 --batches 1 --seq 2048 --repeats 3 --out "$OUT/engine_4l_fp32.json"
}

phase_gemm() {  # our bf16 GEMM variants beside torch's matmul and grouped_mm on the same shapes; the routing pass with variant 1
  run $J org.routecal.bench.GemmBench --out "$WORK/gemm_ours.json" > "$OUT/gemm.txt" 2>&1
  run python3 tests/gpu/torch_gemm_bench.py --ours "$WORK/gemm_ours.json" --out "$OUT/gemm_side_by_side.json" | tee -a "$OUT/gemm.txt"
  [ -d "$WORK/q4" ] && run $J -Droutecal.gemmVariant=1 org.routecal.bench.EngineBench --model "$WORK/q4" --device cuda --batches 1,8 --seq 2048 \
      --repeats 5 --out "$OUT/engine_4l_gemm_v1.json"
}

big_checkpoint() { # the 48-layer checkpoint in $WORK/q48, once per warm machine (BIG_HF=1: written by hf_bench, timing HF too)
  local m=$WORK/q48
  [ -d "$m" ] && return 0
  if [ "${BIG_HF:-0}" = 1 ]; then
    run python3 tests/gpu/hf_bench.py --layers 48 --seq 2048 --batch 1 --reps 3 --skip-gptq --out "$OUT/hf_bench_48l.json" --save-checkpoint "$m"
  else
    run python3 tests/gpu/make_geometry.py --family qwen3_30b --layers 48 --out "$m"
  fi
  du -sh "$m"
}

phase_big1() { # the checkpoint, inspect, and our routing pass on it
  big_checkpoint
  run $R inspect --model "$WORK/q48" > "$OUT/inspect_48l.txt"
  run $J org.routecal.bench.EngineBench --model "$WORK/q48" --device cuda --batches 1,8 --seq 2048 --repeats 3 --out "$OUT/engine_48l.json"
}

phase_big2() { # route on the 48-layer checkpoint (the demo corpus, byte tokens)
  big_checkpoint; demo_assets
  ( time $R route --model "$WORK/q48" --corpus "$WORK/demo/corpus.jsonl" --tokenizer byte --out "$WORK/route48" --device cuda ) > "$OUT/route_48l.txt" 2>&1
  tail -3 "$OUT/route_48l.txt"; cp "$WORK/route48/manifest.json" "$OUT/route_48l_manifest.json" 2>/dev/null
}

phase_big3() { # quantize the 48-layer checkpoint (issue 13's goal: under 10 minutes)
  big_checkpoint; demo_assets
  ( time $R quantize --model "$WORK/q48" --corpus "$WORK/demo/corpus.jsonl" --tokenizer byte --max-samples ${BIG_SAMPLES:-256} \
      --out "$WORK/quant48" --scheme w4a16 --group-size 128 --moe-mode hybrid --device cuda ) > "$OUT/quantize_48l.txt" 2>&1
  tail -5 "$OUT/quantize_48l.txt"; cp "$WORK/quant48/manifest.json" "$OUT/quantize_48l_manifest.json" 2>/dev/null
}

phase_big() { phase_big1; phase_big2; phase_big3; }

phase_scale16() {  # the panel matmul's thread-scaling curve (1, 2, 4, 8, 16 threads; f32 and bf16 panels; issue 19)
  lscpu > "$OUT/lscpu.txt" 2>&1
  [ -f .device/bench/routecal-bench-tests.jar ] || { echo "!! scale16 needs DEVICE_BENCH=1 bash bench/gpu/device_jar.sh"; return 0; }
  local cp=$JAR:$(ls .device/bench/*.jar | tr '\n' ':')
  run java --add-modules jdk.incubator.vector -Xmx32g -XX:+UseG1GC -cp "$cp" org.routecal.bench.PanelBlockingSweep --scaling --samples 3 \
      --out "$OUT/thread-scaling-16core.json" 2> "$OUT/thread-scaling-16core.txt"
  grep -v WARN "$OUT/thread-scaling-16core.txt" | tail -40
}

phase_sweep16() { # the panel blockings on all cores; SWEEP_ARGS='--grid "a;b;…"' for a few (the first is the baseline);
                  # SWEEP_PROPS="routecal.spinMicros=0 routecal.spinMicros=500": one sweep (JVM) per property setting
  lscpu > "$OUT/lscpu.txt" 2>&1
  [ -f .device/bench/routecal-bench-tests.jar ] || { echo "!! sweep16 needs DEVICE_BENCH=1 bash bench/gpu/device_jar.sh"; return 1; }
  local cp=$JAR:$(ls .device/bench/*.jar | tr '\n' ':') prop name
  eval "set -- ${SWEEP_ARGS:-}"
  for prop in ${SWEEP_PROPS:-none}; do
    name=panel-blocking-16core
    [ "$prop" = none ] || name=$name-${prop//[^A-Za-z0-9]/_}
    run java --add-modules jdk.incubator.vector -Xmx32g -XX:+UseG1GC "-D${prop/#none/unused=0}" -cp "$cp" org.routecal.bench.PanelBlockingSweep \
        --samples "${SWEEP_SAMPLES:-3}" "$@" --out "$OUT/$name.json" 2> "$OUT/$name.txt"
    grep -v WARN "$OUT/$name.txt" | sed "s/^/$prop: /" | tail -12
  done
}

phase_scale16ab() { # A/B of a JVM property on the thread-scaling bench: AB_PROP=routecal.keepPackedX AB_VALUES="false true",
                    # each value twice, alternating, at SCALE_THREADS (16) threads
  lscpu > "$OUT/lscpu.txt" 2>&1
  [ -f .device/bench/routecal-bench-tests.jar ] || { echo "!! scale16ab needs DEVICE_BENCH=1 bash bench/gpu/device_jar.sh"; return 0; }
  local cp=$JAR:$(ls .device/bench/*.jar | tr '\n' ':') round v
  for round in 1 2; do
    for v in ${AB_VALUES:-false true}; do
      run java --add-modules jdk.incubator.vector -Xmx32g -XX:+UseG1GC "-D${AB_PROP:-routecal.keepPackedX}=$v" -cp "$cp" org.routecal.bench.PanelBlockingSweep \
          --scaling --threads "${SCALE_THREADS:-16}" --samples 3 --out "$OUT/thread-scaling-ab-$v-$round.json" 2> "$OUT/thread-scaling-ab-$v-$round.txt"
      grep -v WARN "$OUT/thread-scaling-ab-$v-$round.txt" | sed "s/^/$v #$round /"
    done
  done
}

phase_tune16() {
  phase_sweep16 || return 0
  local best
  best=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['best_overall_blocking'])" "$OUT/panel-blocking-16core.json" 2>/dev/null)
  best=${BLOCKING:-${best:-512,64,128,4,false}}
  # the defaults (fp32 and bf16 against HF's), then one blocking for everything: the sweep's best
  run python3 tests/cpu/side_by_side.py --java java --jar "$JAR" --threads "$(nproc)" --heap 32g --workdir "$WORK/sbs" --skip-gptq \
      --repeats 5 --warmup-seconds "${WARMUP:-12}" --out "$OUT/side_by_side_16core_default.json"
  run python3 tests/cpu/side_by_side.py --java java --jar "$JAR" --threads "$(nproc)" --heap 32g --workdir "$WORK/sbs" --skip-gptq \
      --skip-bf16 --repeats 5 --warmup-seconds "${WARMUP:-12}" --jvm-option="-Droutecal.panelBlocking=$best" \
      --out "$OUT/side_by_side_16core_best.json"
  run $J -XX:StartFlightRecording=delay=15s,filename=$OUT/forward-16core.jfr,settings=profile \
      org.routecal.cli.Main bench-forward --model "$WORK/sbs/checkpoint" --tokens-file "$WORK/sbs/tokens.txt" --repeats 30 \
      --warmup-seconds 12 --out "$OUT/forward_profiled.json" > /dev/null 2>&1
  # the warm-up curve (15 passes to steady speed in the first 16-core run): as is, and with the heap committed and touched
  local label
  for label in as-is pretouch; do
    local opt=-Dunused=0
    [ "$label" = pretouch ] && opt="-Xms${HEAP:-64g} -XX:+AlwaysPreTouch"
    run $J $opt org.routecal.cli.Main bench-forward --model "$WORK/sbs/checkpoint" --tokens-file "$WORK/sbs/tokens.txt" --repeats 20 \
        --out "$OUT/forward_warmup_$label.json" > /dev/null 2>&1
  done
}

phase_sbs16() { # the side-by-side forward (no GPTQ) with the default blockings, then bench-forward with others
  run python3 tests/cpu/side_by_side.py --java java --jar "$JAR" --threads "$(nproc)" --heap 32g --workdir "$WORK/sbs" --skip-gptq \
      --repeats 5 --warmup-seconds "${WARMUP:-12}" --out "$OUT/side_by_side_16core.json"
  for b in ${SBS_BLOCKINGS:-256,256,256,4,false} default; do
    local opt=-Droutecal.panelBlocking=$b
    [ "$b" = default ] && opt=-Dunused=0
    run $J "$opt" org.routecal.cli.Main bench-forward --model "$WORK/sbs/checkpoint" --tokens-file "$WORK/sbs/tokens.txt" \
        --repeats 5 --warmup-seconds "${WARMUP:-12}" --out "$OUT/forward_blocking-${b//,/_}.json" > /dev/null 2>&1
  done
  # SBS_OPTS="-Droutecal.spinMicros=0 default": the forward once per JVM option ("default": none), for A/B
  for o in ${SBS_OPTS:-}; do
    local name=${o//[^A-Za-z0-9]/_}
    run $J "${o/#default/-Dunused=0}" org.routecal.cli.Main bench-forward --model "$WORK/sbs/checkpoint" --tokens-file "$WORK/sbs/tokens.txt" \
        --repeats 5 --warmup-seconds "${WARMUP:-12}" --out "$OUT/forward_opt$name.json" > /dev/null 2>&1
    python3 -c "import json,sys; d = json.load(open(sys.argv[1])); print(sys.argv[2], d.get('forward_tokens_per_s_median', d.get('forward_tokens_per_s')), 'tokens/s median')" "$OUT/forward_opt$name.json" "$o" 2>/dev/null
  done
}

phase_multi1() { # the multi-device code (partition, reduction, broadcast; logical devices share GPU 0) on one GPU
  demo_assets
  local d=$WORK/demo q=$WORK/multi1
  rm -rf "$q"; mkdir -p "$q"
  for devs in 0 0,0 0,0,0; do
    local n=devices-${devs//,/-}
    ( time $R quantize --model "$d/model" --corpus "$d/corpus.jsonl" --out "$q/$n" --scheme w4a16 --group-size 32 \
        --moe-mode hybrid --device cuda --devices "$devs" ) > "$OUT/multi1_$n.txt" 2>&1
    tail -3 "$OUT/multi1_$n.txt"
    cp "$q/$n/manifest.json" "$OUT/multi1_${n}_manifest.json" 2>/dev/null
    [ "$devs" != 0 ] && run $J org.routecal.quant.ct.CheckpointDiff "$q/devices-0" "$q/$n" --out "$OUT/multi_diff_demo_1_vs_$n.json" | grep fraction_equal
  done
}

phase_multi() { # on nvidia-h200-x8; see the header for the subsets and HEAP
  local gpus c=$WORK/calib2k.jsonl
  gpus=$(nvidia-smi -L | wc -l)
  # 512 texts of 2048 printable bytes (2048 tokens each with --tokenizer byte), seeded
  [ -f "$c" ] || python3 -c '
import json, random, sys
r = random.Random(20)
with open(sys.argv[1], "w") as f:
    for i in range(512):
        f.write(json.dumps({"sample_id": "c%d" % i, "domain": "random", "text": "".join(chr(r.randint(32, 126)) for _ in range(2048))}) + "\n")
' "$c"
  mkdir -p "$WORK/multi"
  for m in ${MULTI_MODELS:-q48 dsv3}; do
    case $m in
      q48)  [ -d "$WORK/q48" ] || run python3 tests/gpu/make_geometry.py --family qwen3_30b --layers 48 --out "$WORK/q48" ;;
      dsv3) [ -d "$WORK/dsv3" ] || run python3 tests/gpu/make_geometry.py --family deepseek_v3 --layers 3 --out "$WORK/dsv3" ;;
      *) echo "!! unknown model $m (q48 or dsv3)"; continue ;;
    esac
    du -sh "$WORK/$m"
    for g in ${MULTI_GPUS:-1 2 4 8}; do
      if [ "$g" -gt "$gpus" ]; then echo "!! skip $m on $g GPUs: $gpus visible"; continue; fi
      local o=$WORK/multi/$m-$g devs
      devs=$(seq -s, 0 $((g - 1)))
      rm -rf "$o"
      log "quantize $m on $g GPU(s): --devices $devs"
      ( time $R quantize --model "$WORK/$m" --corpus "$c" --tokenizer byte --max-samples "${MULTI_SAMPLES:-256}" --out "$o" \
          --scheme w4a16 --group-size 128 --moe-mode hybrid --device cuda --devices "$devs" ) > "$OUT/multi_${m}_$g.txt" 2>&1
      tail -3 "$OUT/multi_${m}_$g.txt"
      cp "$o/manifest.json" "$OUT/multi_${m}_${g}_manifest.json" 2>/dev/null
      if [ "$g" -gt 1 ] && [ -d "$WORK/multi/$m-1" ]; then
        run $J org.routecal.quant.ct.CheckpointDiff "$WORK/multi/$m-1" "$o" --out "$OUT/multi_diff_${m}_1_vs_$g.json" | grep fraction_equal
        rm -rf "$o" # disk: only the one-GPU reference is kept
      fi
    done
  done
  python3 bench/gpu/results.py "$OUT" | sed -n '/^### Several GPUs/,$p'
}

phase_cpu16() {
  lscpu > "$OUT/lscpu.txt" 2>&1
  run python3 tests/cpu/side_by_side.py --java java --jar "$JAR" --threads "$(nproc)" --heap 32g --workdir "$WORK/sbs" \
      --out "$OUT/side_by_side_16core.json"
  # grouped expert products in one task list vs one product per expert, interleaved, on the side-by-side checkpoint
  # and on one Qwen3-30B-A3B-geometry layer (2048 tokens)
  for i in $(seq "${AB_ROUNDS:-1}"); do
    for g in true false; do
      run $J -Droutecal.groupedPanels=$g org.routecal.cli.Main bench-forward --model "$WORK/sbs/checkpoint" \
          --tokens-file "$WORK/sbs/tokens.txt" --repeats 5 --out "$OUT/forward_grouped-$g-$i.json" > /dev/null 2>&1
      run $J -Droutecal.groupedPanels=$g org.routecal.cli.Main bench-forward --hidden 2048 --experts 128 --top-k 8 \
          --moe-intermediate 768 --layers 1 --heads 32 --kv-heads 4 --head-dim 128 --seq 2048 --repeats 5 \
          --out "$OUT/forward_q30layer_grouped-$g-$i.json" > /dev/null 2>&1
    done
  done
  # The kernel bench (matmul share of the FMA peak at every core count) lives in the test classes: bench/gpu/device_jar.sh
  # packs it with EJML into .device/bench/ when asked (DEVICE_BENCH=1).
  if [ -f .device/bench/routecal-bench-tests.jar ]; then
    local cp=$JAR:$(ls .device/bench/*.jar | tr '\n' ':')
    run java --add-modules jdk.incubator.vector -Xmx16g -XX:+UseG1GC -cp "$cp" org.routecal.bench.CpuKernelBench --samples 5 \
        --out "$OUT/cpu-kernels-16core.json" > "$OUT/cpu-kernels-16core.txt" 2>&1
    run java --add-modules jdk.incubator.vector -Xmx16g -XX:+UseG1GC -Droutecal.threads=1 -cp "$cp" org.routecal.bench.CpuKernelBench \
        --samples 5 --out "$OUT/cpu-kernels-16core-1thread.json" > "$OUT/cpu-kernels-16core-1thread.txt" 2>&1
  fi
}

for p in "$@"; do
  log "phase $p"
  "phase_$p"
done
log done
