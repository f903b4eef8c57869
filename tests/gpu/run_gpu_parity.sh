#!/usr/bin/env bash
# GPU parity: every CUDA kernel against the plain-loop CPU reference (org.routecal.compute.cuda.GpuParity), on the
# GPU machine, from the jar (that machine has no JDK or Maven; .device/ brings a slim JRE — see bench/RESULTS.md).
#   bash tests/gpu/run_gpu_parity.sh            writes $OUT/parity.json (OUT defaults to bench/gpu)
# Exit codes: 0 all checks pass, 1 a check failed, 3 no usable GPU (the reason is printed), 2 setup problem.
# CPU-only CI: CudaParityTest runs the same checks under JUnit and skips with the probe's reason.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -f .device/jre.tar.xz ] && ! command -v java >/dev/null 2>&1; then
  mkdir -p /tmp/jre && tar xJf .device/jre.tar.xz -C /tmp/jre && export PATH=/tmp/jre/bin:$PATH
fi
command -v java >/dev/null 2>&1 || { echo "no java: run ../shared/tools/device-java.sh lib/target/routecal.jar here and carry .device"; exit 2; }
JAR=${JAR:-.device/app/routecal-gpu.jar}
[ -f "$JAR" ] || JAR=lib/target/routecal.jar
[ -f "$JAR" ] || { echo "no routecal.jar (looked in .device/app and lib/target)"; exit 2; }
OUT=${OUT:-bench/gpu}
mkdir -p "$OUT"
# JCuda unpacks its native library into java.io.tmpdir and never rewrites an existing file: use a private one.
tmp=$(mktemp -d /tmp/routecal-jcuda.XXXXXX)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
java -Djava.io.tmpdir="$tmp" -cp "$JAR" org.routecal.compute.cuda.GpuParity --out "$OUT/parity.json" --seed "${SEED:-1}"
