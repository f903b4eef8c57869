#!/usr/bin/env bash
# Builds .device/app/routecal-gpu.jar: the subset of the shaded lib/target/routecal.jar that the GPU runs need
# (routecal classes, JCuda's classes and driver native, Jackson) — the full jar (~110 MB with tokenizer, Parquet and
# plotly resources) exceeds the 64 MiB the device tool carries. Then packs the slim JRE next to it.
#   mvn -o -q -pl lib -am package -DskipTests && bash bench/gpu/device_jar.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
jar_in=lib/target/routecal.jar
[ -f "$jar_in" ] || { echo "build $jar_in first: mvn -o -q -pl lib -am package -DskipTests"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && unzip -q "$OLDPWD/$jar_in" 'org/routecal/*' 'jcuda/*' 'lib/libJCudaDriver-*linux-x86_64.so' \
  'com/fasterxml/jackson/*' 'META-INF/versions/*/com/fasterxml/*')
mkdir -p .device/app
rm -f .device/app/routecal-gpu.jar
(cd "$tmp" && jar cf "$OLDPWD/.device/app/routecal-gpu.jar" .)
# The JRE packer lives in the shared tools folder beside the repo (../shared/tools from the main checkout).
tools=${SHARED_TOOLS:-../shared/tools}
[ -x "$tools/device-java.sh" ] || tools=/work/shared/tools
bash "$tools/device-java.sh"   # adds .device/jre.tar.xz (and keeps .device/ out of git in a main checkout)
du -sh .device/app/routecal-gpu.jar .device/jre.tar.xz
