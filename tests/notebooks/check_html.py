#!/usr/bin/python3
"""Opens an HTML report in headless Chromium (offline) and checks that its Plotly charts rendered.

    /usr/bin/python3 tests/notebooks/check_html.py REPORT.html --figures N [--title T …] --screenshot OUT.png

Chromium dumps the DOM after scripts ran; every chart must have become a plotly SVG (class main-svg) with drawn
paths, and each --title must appear as a rendered chart title (class gtitle). A PNG screenshot is kept as an artifact.
Network is disabled, so a chart can only render from the embedded plotly.js. Exit 1 on failure.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium(args, profile):
    cmd = ["chromium", *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=20000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("html")
    ap.add_argument("--figures", type=int, required=True, help="charts that must have rendered")
    ap.add_argument("--title", action="append", default=[], help="a chart title that must be visible")
    ap.add_argument("--screenshot", required=True)
    a = ap.parse_args()
    url = "file://" + os.path.abspath(a.html)
    problems = []
    with tempfile.TemporaryDirectory() as profile:
        dom = chromium(["--dump-dom", url], profile)
        html = dom.stdout
        if dom.returncode != 0 or not html:
            print(f"chromium failed ({dom.returncode}): {dom.stderr[-2000:]}")
            sys.exit(1)
        charts = len(re.findall(r'class="plot-container plotly"', html))
        svgs = re.findall(r'<svg class="main-svg".*?</svg>', html, flags=re.S)
        paths = sum(len(re.findall(r"<path", s)) for s in svgs)
        titles = re.findall(r'class="g-gtitle">.*?<text[^>]*class="gtitle"[^>]*>(.*?)</text>', html, flags=re.S)
        if charts < a.figures:
            problems.append(f"{charts} rendered charts, expected {a.figures}")
        if paths == 0:
            problems.append("no SVG paths drawn in plotly's SVG")
        for t in a.title:
            if not any(t in x for x in titles):
                problems.append(f"title {t!r} not rendered (rendered titles: {titles})")
        shot = chromium([f"--screenshot={os.path.abspath(a.screenshot)}", "--window-size=1280,2400", url], profile)
        if not os.path.isfile(a.screenshot) or os.path.getsize(a.screenshot) == 0:
            problems.append(f"no screenshot written: {shot.stderr[-500:]}")
    print(f"{a.html}: {charts} charts, {paths} SVG paths, titles {titles}")
    for p in problems:
        print("  - " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
