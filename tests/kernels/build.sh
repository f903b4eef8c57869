#!/usr/bin/env bash
# Builds a stock Java notebook kernel from its public source, for the interop tests (NotebookClientTest):
#   tests/kernels/build.sh ijava SOURCE_DIR   # IJava 1.3.0 (github SpencerPark/IJava, tag v1.3.0)
#   tests/kernels/build.sh jjava SOURCE_DIR   # JJava 1.0-a6 (github dflib/jjava, tag 1.0-a6)
# SOURCE_DIR is a checkout of that tag. Output: ${ROUTECAL_KERNELS_DIR:-~/.cache/routecal/kernels}/<kernel>/
# (kernel.jar + lib/*.jar), where the tests look. Neither kernel's jar is on Maven Central, and their own builds need
# Gradle plugins (IJava) or network plugins (JJava); their libraries do resolve from Maven, so this script fetches
# those with Maven and compiles the sources with javac, unchanged.
set -euo pipefail
kind="${1:?usage: build.sh ijava|jjava SOURCE_DIR}"
src=$(cd "${2:?usage: build.sh ijava|jjava SOURCE_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out="${ROUTECAL_KERNELS_DIR:-$HOME/.cache/routecal/kernels}/$kind"
rm -rf "$out.tmp" && mkdir -p "$out.tmp/lib" "$out.tmp/classes"
mvn -q -B -f "$here/deps-$kind.pom.xml" dependency:copy-dependencies -DoutputDirectory="$out.tmp/lib" -DincludeScope=runtime
case "$kind" in
  ijava)
    roots=("$src/src/main/java"); resources=("$src/src/main/resources");;
  jjava)
    roots=("$src/jjava-kernel/src/main/java" "$src/jjava-maven/src/main/java" "$src/jjava-distro/src/main/java")
    resources=("$src/jjava-distro/src/main/resources");;
  *) echo "unknown kernel $kind" >&2; exit 2;;
esac
find "${roots[@]}" -name '*.java' > "$out.tmp/sources.txt"
javac --release 17 -nowarn -encoding UTF-8 -cp "$out.tmp/lib/*" -d "$out.tmp/classes" @"$out.tmp/sources.txt"
for r in "${resources[@]}"; do cp -r "$r"/. "$out.tmp/classes/"; done
# IJava's Gradle build fills @version@-style tokens into its metadata file; give them plain values.
if [ -f "$out.tmp/classes/ijava-kernel-metadata.json" ]; then
  sed -i 's/@[A-Za-z_.]*@/1.3.0/g' "$out.tmp/classes/ijava-kernel-metadata.json"
fi
(cd "$out.tmp/classes" && jar cf ../kernel.jar .)
rm -rf "$out.tmp/classes" "$out.tmp/sources.txt" "$out"
mv "$out.tmp" "$out"
echo "built $kind into $out"
