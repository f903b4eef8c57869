#!/usr/bin/env bash
# Packs what the GPU machine needs into .device/ (kept out of git): the slim JRE (jre.tar.xz, via the shared
# device-java.sh) and routecal-device.jar.xz — lib/target/routecal-device.jar (mvn -Pdevice: the shaded jar minimized,
# ~45 MB deflated) rewritten with stored entries and xz-compressed (~20 MB), because the device tool carries at most
# 64 MiB with the working tree. tests/gpu/run_gpu.sh unpacks both there.
#   mvn -o -q -B -Pdevice -pl lib -am package -DskipTests && bash bench/gpu/device_jar.sh
#   DEVICE_BENCH=1 bash bench/gpu/device_jar.sh      # also the CPU kernel bench for the cpu16 phase
set -euo pipefail
cd "$(dirname "$0")/../.."
jar_in=lib/target/routecal-device.jar
[ -f "$jar_in" ] || { echo "build $jar_in first: mvn -o -q -B -Pdevice -pl lib -am package -DskipTests"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && unzip -q "$OLDPWD/$jar_in" && zip -q -0 -r ../stored.jar . && mv ../stored.jar "$tmp/stored.jar")
mkdir -p .device .git/info
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
xz -9 -T2 -c "$tmp/stored.jar" > .device/routecal-device.jar.xz
# The slim JRE, as the shared device-java.sh makes it but uncompressed by jlink so that xz packs it (17.7 MB instead
# of 30 MB with jlink's own compression); java.desktop because Tablesaw and the report charts touch java.awt (the demo
# failed without it on the GPU machine); jdk.jfr for profiles taken there (run_gpu.sh tune16).
modules=java.base,java.logging,java.management,jdk.unsupported,jdk.incubator.vector,java.sql,java.net.http,java.xml,java.naming,java.desktop,jdk.jfr
if [ ! -f .device/jre.tar.xz ] || [ ! -f .device/jre.modules ] || [ "$(cat .device/jre.modules)" != "$modules" ]; then
  "${JLINK_JDK:-/usr/lib/jvm/java-17-openjdk-amd64}/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages \
    --no-header-files --compress=0 --output "$tmp/jre" 2>&1 | grep -v incubator || true
  tar cf - -C "$tmp/jre" . | xz -9 -T2 > .device/jre.tar.xz
  echo "$modules" > .device/jre.modules
fi
# DEVICE_BENCH=1: the CPU kernel bench (a test class) and EJML, which it compares with, for run_gpu.sh's cpu16 phase.
rm -rf .device/bench
if [ "${DEVICE_BENCH:-0}" = 1 ]; then
  [ -f lib/target/test-classes/org/routecal/bench/CpuKernelBench.class ] || mvn -o -q -B -pl lib -am -DskipTests test-compile
  mkdir -p .device/bench
  (cd lib/target/test-classes && jar cf "$OLDPWD/.device/bench/routecal-bench-tests.jar" org/routecal/bench/CpuKernelBench*.class org/routecal/bench/PanelBlockingSweep*.class org/routecal/bench/ThreadScaling*.class)
  cp ~/.m2/repository/org/ejml/ejml-core/0.46.1/ejml-core-0.46.1.jar ~/.m2/repository/org/ejml/ejml-ddense/0.46.1/ejml-ddense-0.46.1.jar .device/bench/
fi
du -sh .device/routecal-device.jar.xz .device/jre.tar.xz ${DEVICE_BENCH:+.device/bench}
