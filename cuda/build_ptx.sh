#!/usr/bin/env bash
# Compiles every cuda/*.cu to PTX (virtual arch compute_80, so the driver JIT-compiles it for sm_80 and newer).
#   cuda/build_ptx.sh OUT_DIR     incremental: a .ptx is rebuilt only when older than its .cu or common.cuh
#   cuda/build_ptx.sh --update    rebuild into the committed fallback copies under lib/src/main/resources/…/ptx/
# Without nvcc on PATH it prints one line and exits 0, so the build keeps working with the committed PTX.
# The Maven build (lib/pom.xml, phase process-classes) calls this with lib/target/classes/…/ptx; PtxSyncTest checks
# that the committed copies equal what this nvcc produces.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
committed="$here/../lib/src/main/resources/org/routecal/compute/cuda/ptx"
if [ "${1:-}" = "--update" ]; then out="$committed"; force=1; else out="${1:?usage: build_ptx.sh OUT_DIR | --update}"; force=0; fi
if ! command -v nvcc >/dev/null 2>&1; then
  echo "build_ptx: nvcc not on PATH; using the committed PTX in lib/src/main/resources/org/routecal/compute/cuda/ptx"
  exit 0
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)  # absolute: nvcc runs from inside cuda/
for cu in "$here"/*.cu; do
  name=$(basename "$cu" .cu)
  ptx="$out/$name.ptx"
  if [ "$force" = 0 ] && [ -f "$ptx" ] && [ "$ptx" -nt "$cu" ] && [ "$ptx" -nt "$here/common.cuh" ]; then continue; fi
  # Compile from inside cuda/ with a relative name, so nothing machine-specific can leak into the PTX text.
  (cd "$here" && nvcc -ptx -arch=compute_80 -o "$ptx.tmp" "$name.cu")
  mv "$ptx.tmp" "$ptx"
  echo "build_ptx: $name.ptx"
done
