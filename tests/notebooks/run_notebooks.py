#!/usr/bin/python3
"""Executes notebooks on the installed routecal kernel through nbclient (a real Jupyter client) and checks outputs.

Run with Debian's python3 (python3-nbclient, python3-nbformat, python3-jupyter-client):
    /usr/bin/python3 tests/notebooks/run_notebooks.py --jupyter-path PREFIX/share/jupyter --out DIR [--rich] NB.ipynb...

Checks, per notebook:
  * no error output, except in cells tagged `raises-exception` (which must have one);
  * expectations a cell declares in metadata.routecal_test:
      stdout_contains, result_contains (text/plain of the execute_result), output_contains (text/plain of any
      display or result), html_contains, error_name,
      has_table (an HTML table with at least one data row), has_figure (Plotly JSON with a trace);
  * with --rich: the notebook as a whole shows at least one non-empty table and one figure.
Executed notebooks are written to --out. Exit status 1 on any failed check.
"""
import argparse
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient

PLOTLY = "application/vnd.plotly.v1+json"


def is_table(out):
    html = out.get("data", {}).get("text/html", "")
    return "<table" in html and "<td>" in html


def is_figure(out):
    fig = out.get("data", {}).get(PLOTLY)
    if isinstance(fig, str):
        fig = json.loads(fig)
    # Self-sufficient chart output: Plotly JSON, a static PNG, and HTML holding the PNG plus the drawing script.
    html = out.get("data", {}).get("text/html", "")
    return (bool(fig) and len(fig.get("data", [])) > 0 and bool(out.get("data", {}).get("image/png"))
            and 'class="rc-chart"' in html and "data:image/png;base64," in html)


def check_cell(index, cell, problems):
    outs = cell.get("outputs", [])
    errors = [o for o in outs if o.output_type == "error"]
    tags = cell.get("metadata", {}).get("tags", [])
    where = f"cell {index + 1} ({cell.source.splitlines()[0][:50] if cell.source else ''!r})"
    if "raises-exception" in tags:
        if not errors:
            problems.append(f"{where}: expected an error output, got none")
    elif errors:
        e = errors[0]
        problems.append(f"{where}: {e.ename}: {e.evalue}\n    " + "\n    ".join(e.traceback))
    expect = cell.get("metadata", {}).get("routecal_test", {})
    stdout = "".join(o.text for o in outs if o.output_type == "stream" and o.name == "stdout")
    results = [o for o in outs if o.output_type == "execute_result"]
    result_text = results[0]["data"].get("text/plain", "") if results else ""
    html = "".join(o.get("data", {}).get("text/html", "") for o in outs if "data" in o)
    if "stdout_contains" in expect and expect["stdout_contains"] not in stdout:
        problems.append(f"{where}: stdout {stdout!r} lacks {expect['stdout_contains']!r}")
    if "result_contains" in expect and expect["result_contains"] not in result_text:
        problems.append(f"{where}: result {result_text!r} lacks {expect['result_contains']!r}")
    all_text = "".join(o.get("data", {}).get("text/plain", "") for o in outs if "data" in o)
    if "output_contains" in expect and expect["output_contains"] not in all_text:
        problems.append(f"{where}: no output's text contains {expect['output_contains']!r}")
    if "html_contains" in expect and expect["html_contains"] not in html:
        problems.append(f"{where}: HTML output lacks {expect['html_contains']!r}")
    if "error_name" in expect and (not errors or errors[0].ename != expect["error_name"]):
        got = errors[0].ename if errors else "no error"
        problems.append(f"{where}: expected error {expect['error_name']}, got {got}")
    if expect.get("has_table") and not any(is_table(o) for o in outs):
        problems.append(f"{where}: no non-empty HTML table output")
    if expect.get("has_figure") and not any(is_figure(o) for o in outs):
        problems.append(f"{where}: no Plotly figure output")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jupyter-path", required=True, help="folder holding kernels/<name>/kernel.json")
    ap.add_argument("--kernel", default="routecal")
    ap.add_argument("--out", required=True)
    ap.add_argument("--timeout", type=int, default=300, help="per-cell seconds (then nbclient interrupts)")
    ap.add_argument("--rich", action="store_true", help="require a table and a figure per notebook")
    ap.add_argument("notebooks", nargs="+")
    a = ap.parse_args()
    os.environ["JUPYTER_PATH"] = a.jupyter_path
    os.makedirs(a.out, exist_ok=True)
    failed = False
    for path in a.notebooks:
        nb = nbformat.read(path, as_version=4)
        jars = os.environ.get("ROUTECAL_JARS", "")
        for cell in nb.cells:
            cell.source = cell.source.replace("@ROUTECAL_JARS@", jars)
        t0 = time.time()
        # A cell may ask for a shorter timeout (routecal_test.timeout): nbclient then sends an interrupt request,
        # which is how the runaway-loop cell is stopped.
        client = NotebookClient(nb, kernel_name=a.kernel, timeout=a.timeout, interrupt_on_timeout=True,
                                timeout_func=lambda cell: cell.get("metadata", {}).get("routecal_test", {}).get(
                                    "timeout", a.timeout),
                                allow_errors=True, record_timing=True,
                                resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
        problems = []
        try:
            client.execute()
        except Exception as e:  # kernel died, timeout without recovery, …
            problems.append(f"execution failed: {type(e).__name__}: {e}")
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                check_cell(i, cell, problems)
        if a.rich:
            outs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
            if not any(is_table(o) for o in outs):
                problems.append("no non-empty table output in the notebook")
            if not any(is_figure(o) for o in outs):
                problems.append("no Plotly figure output in the notebook")
        if nb.metadata.get("language_info", {}).get("name", "").lower() != "java":
            problems.append(f"language_info.name is {nb.metadata.get('language_info', {}).get('name')!r}, not 'java'")
        nbformat.write(nb, os.path.join(a.out, os.path.basename(path)))
        status = "ok" if not problems else "FAILED"
        print(f"{path}: {status} in {time.time() - t0:.1f}s")
        for p in problems:
            print("  - " + p)
        failed |= bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
