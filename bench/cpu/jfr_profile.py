#!/usr/bin/env python3
"""Where a JFR recording's CPU samples land: self (top frame) and inclusive (anywhere on the stack) shares per method.

    python3 bench/cpu/jfr_profile.py forward-16core.jfr [--top 25] [--jfr /path/to/jdk/bin/jfr]

Reads the jdk.ExecutionSample events through the JDK's `jfr print --json` (Java 17+). Used on the profile that
run_gpu.sh's tune16 phase records of the side-by-side forward on the GPU machine's 16 cores.
"""
import argparse
import collections
import json
import shutil
import subprocess
import sys


def frames(event):
    st = event["values"].get("stackTrace") or {}
    for f in st.get("frames", []):
        m = f["method"]
        yield m["type"]["name"].split(".")[-1] + "." + m["name"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("recording")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--jfr", default=shutil.which("jfr") or "jfr")
    a = p.parse_args()
    out = subprocess.run([a.jfr, "print", "--json", "--events", "jdk.ExecutionSample", a.recording],
                         check=True, capture_output=True, text=True).stdout
    events = json.loads(out)["recording"]["events"]
    if not events:
        sys.exit("no execution samples in " + a.recording)
    own, incl = collections.Counter(), collections.Counter()
    for e in events:
        fs = list(frames(e))
        if not fs:
            continue
        own[fs[0]] += 1
        for m in set(fs):
            incl[m] += 1
    n = len(events)
    print(f"{n} samples")
    print(f"{'self %':>7}  method")
    for m, c in own.most_common(a.top):
        print(f"{100 * c / n:7.1f}  {m}")
    print(f"\n{'incl %':>7}  method")
    for m, c in incl.most_common(a.top):
        print(f"{100 * c / n:7.1f}  {m}")


if __name__ == "__main__":
    main()
