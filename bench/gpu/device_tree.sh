#!/usr/bin/env bash
# The device tool carries the working tree with .device/ and refuses more than 64 MiB in all: the tracked tree (~31 MB)
# plus .device/ (~39 MB) is over. This moves the tracked bulk that the GPU machine never reads (the trained benchmark
# model, the quantizer fixtures, the demo pool that is inside the jar anyway) into .git/device-hidden/ and back.
#   bash bench/gpu/device_tree.sh hide      # before the device calls
#   bash bench/gpu/device_tree.sh restore   # after them (also: git checkout -- <path> restores any of them)
set -euo pipefail
cd "$(dirname "$0")/../.."
paths=(tests/bench_model tests/fixtures/quant lib/src/main/resources/org/routecal/demo/pool.jsonl)
store=.git/device-hidden
case ${1:-} in
  hide)
    for p in "${paths[@]}"; do
      [ -e "$p" ] || continue
      mkdir -p "$store/$(dirname "$p")"
      [ -e "$store/$p" ] && { echo "device_tree: $store/$p exists; restore first"; exit 2; }
      mv "$p" "$store/$p"
    done
    # while they are hidden, a commit would record them as deleted (it happened once): a pre-commit hook refuses
    mkdir -p .git/hooks
    [ -e .git/hooks/pre-commit ] || printf '%s\n' '#!/bin/sh' '# installed by bench/gpu/device_tree.sh hide; removed by restore' \
      'echo "device_tree: tracked files are hidden for a device call; run bash bench/gpu/device_tree.sh restore before committing" >&2' \
      'exit 1' > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit
    echo "device_tree: hidden ${paths[*]}; carried tree now $(git ls-files -z | xargs -0 cat 2>/dev/null | wc -c) bytes + .device $(du -cb .device/*.xz | tail -1 | cut -f1) bytes" ;;
  restore)
    for p in "${paths[@]}"; do
      [ -e "$store/$p" ] || continue
      [ -e "$p" ] && { echo "device_tree: $p is back already; left $store/$p"; continue; }
      mkdir -p "$(dirname "$p")"
      mv "$store/$p" "$p"
    done
    grep -q 'installed by bench/gpu/device_tree.sh' .git/hooks/pre-commit 2>/dev/null && rm -f .git/hooks/pre-commit
    git status --short -- "${paths[@]}" ;;
  *) echo "usage: bash bench/gpu/device_tree.sh hide|restore"; exit 2 ;;
esac
