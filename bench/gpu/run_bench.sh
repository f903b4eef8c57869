#!/usr/bin/env bash
# Side-by-side GPU benchmark on one machine, one model geometry (issue 8 item 6): HF transformers first
# (tests/gpu/hf_bench.py), then routecal (org.routecal.compute.cuda.bench.CudaBench). Results: bench/gpu/*.json;
# copy the numbers into bench/RESULTS.md with the command line used.
#   LAYERS=4 SEQ=2048 BATCH=1 bash bench/gpu/run_bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
LAYERS=${LAYERS:-4}; SEQ=${SEQ:-2048}; BATCH=${BATCH:-1}; OUT=${OUT:-bench/gpu}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 tests/gpu/hf_bench.py --layers "$LAYERS" --seq "$SEQ" --batch "$BATCH" --out "$OUT/hf_bench.json" ${HF_ARGS:-}
if [ -f .device/jre.tar.xz ] && ! command -v java >/dev/null 2>&1; then
  mkdir -p /tmp/jre && tar xJf .device/jre.tar.xz -C /tmp/jre && export PATH=/tmp/jre/bin:$PATH
fi
JAR=${JAR:-.device/app/routecal-gpu.jar}
[ -f "$JAR" ] || JAR=lib/target/routecal.jar
tmp=$(mktemp -d /tmp/routecal-jcuda.XXXXXX)
java -Xmx48g -Djava.io.tmpdir="$tmp" -cp "$JAR" org.routecal.compute.cuda.bench.CudaBench \
  --layers "$LAYERS" --seq "$SEQ" --batch "$BATCH" --out "$OUT/routecal_bench.json"
