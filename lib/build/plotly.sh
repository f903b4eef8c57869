#!/usr/bin/env bash
# Puts the minified plotly.js bundle into the jar's classes: lib/build/plotly.sh OUT_DIR
#
# Why: reports and notebook charts embed plotly.js so they open offline. The Maven mirror serves only the unminified
# WebJar (10.8 MB; a route report was 11 MB); npm's plotly.js-dist-min is 4.6 MB, 1.3 MB gzipped (PlotlyJs embeds it
# gzipped and the browser inflates it). The npm client fetches it once per machine into a cache; the file's SHA-256 is
# pinned below, so a different file is refused. Without npm (and no cached copy) it prints one line and exits 0: the
# build then falls back to the WebJar's unminified bundle (PlotlyJs says so at run time; reports get ~1 MB bigger).
set -euo pipefail
version=2.35.3
sha256=fc84e3cfa55d23d3654c562ea5deb3c274eb6972a6adf66941d1a821e34825e4
out="${1:?usage: plotly.sh OUT_DIR}"
target="$out/plotly-$version.min.js"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/routecal/plotly.js-dist-min-$version.min.js"
ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$sha256" ]; }
if ok "$target"; then exit 0; fi
if ! ok "$cache"; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "plotly: npm not on PATH and no cached bundle; the jar embeds the unminified plotly.js from the WebJar"
    exit 0
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if ! (cd "$tmp" && npm pack --silent "plotly.js-dist-min@$version" >/dev/null 2>&1 \
        && tar xzf "plotly.js-dist-min-$version.tgz" package/plotly.min.js); then
    echo "plotly: npm pack plotly.js-dist-min@$version failed (offline?); the jar embeds the unminified WebJar bundle"
    exit 0
  fi
  if ! ok "$tmp/package/plotly.min.js"; then
    echo "plotly: npm's plotly.min.js does not have the pinned SHA-256 $sha256; refusing it" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$cache")"
  cp "$tmp/package/plotly.min.js" "$cache.tmp" && mv "$cache.tmp" "$cache"
  echo "plotly: fetched plotly.js-dist-min@$version with npm (cached in $(dirname "$cache"))"
fi
mkdir -p "$out"
cp "$cache" "$target.tmp" && mv "$target.tmp" "$target"
