#!/usr/bin/python3
"""Talks to the installed routecal kernel over the Jupyter protocol (jupyter_client) and checks what a notebook
front end relies on beyond execution: kernel_info, is_complete, completion, and interrupting a CPU-bound loop.

    /usr/bin/python3 tests/notebooks/protocol_check.py --jupyter-path PREFIX/share/jupyter [--kernel routecal]
Exit 1 on any failed check.
"""
import argparse
import os
import sys
import time

from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session


def reply(kc, msg_id, timeout=120):
    while True:
        msg = kc.get_shell_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jupyter-path", required=True)
    ap.add_argument("--kernel", default="routecal")
    a = ap.parse_args()
    os.environ["JUPYTER_PATH"] = a.jupyter_path
    problems = []
    km, kc = start_new_kernel(kernel_name=a.kernel, startup_timeout=180)
    try:
        info = reply(kc, kc.kernel_info())
        if info["language_info"]["name"] != "java":
            problems.append(f"kernel_info language {info['language_info']['name']!r}")

        for code, want in [("int n = 1;", "complete"), ("for (int i = 0; i < 3; i++) {", "incomplete"),
                           ("%route --help", "complete")]:
            got = reply(kc, kc.is_complete(code))["status"]
            if got != want:
                problems.append(f"is_complete({code!r}) = {got}, expected {want}")

        kc.execute_interactive('String greeting = "hi";', timeout=120)
        code = "greeting.toUpp"
        c = reply(kc, kc.complete(code, len(code)))
        if not any(m.startswith("toUpperCase") for m in c["matches"]) or c["cursor_start"] != len("greeting."):
            problems.append(f"complete({code!r}) gave {c['matches']} from {c['cursor_start']}")

        # Shift-Tab inspection: JShell's documentation for a Java symbol, --help for a magic.
        for code, at, want in [("Math.max(1, 2)", 7, "max("), ("%route --help", 3, "--model")]:
            r = reply(kc, kc.inspect(code, at))
            text = r.get("data", {}).get("text/plain", "")
            if not r.get("found") or want not in text:
                problems.append(f"inspect({code!r}) found={r.get('found')} text={text[:200]!r}")

        # A forged message (signed with another key) and an unsigned one must be dropped, the kernel alive.
        for key in (b"forged-key", b""):
            bad = Session(key=key, username="attacker")
            bad.send(kc.shell_channel.socket, "execute_request",
                     content={"code": "System.exit(3);", "silent": False, "store_history": True,
                              "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        time.sleep(1)
        alive = reply(kc, kc.execute("\"alive after forged messages\""), timeout=60)
        if alive["status"] != "ok":
            problems.append(f"after forged messages: {alive}")

        # Run All: cells sent at once; after a failing cell the queued ones are aborted, later ones run again.
        ids = [kc.execute(c, stop_on_error=True) for c in ("int ok1 = 1;", "int bad = 1 / 0;", "int notRun = 3;")]
        replies = [reply(kc, i) for i in ids]
        if [r["status"] for r in replies[:2]] != ["ok", "error"] or replies[1].get("ename") != "ArithmeticException":
            problems.append(f"run all: first replies {[(r['status'], r.get('ename')) for r in replies[:2]]}")
        if replies[2]["status"] == "ok":
            problems.append("run all: the cell queued after the failing one ran")
        later = reply(kc, kc.execute("ok1 + 1"))
        if later["status"] != "ok":
            problems.append(f"a cell run after the aborted ones: {later}")

        # A CPU-bound loop never checks its interrupt flag: the kernel must stop the thread itself.
        msg_id = kc.execute("long spins = 0;\nwhile (true) { spins++; }")
        time.sleep(3)
        t0 = time.time()
        km.interrupt_kernel()
        r = reply(kc, msg_id, timeout=60)
        if r["status"] != "error" or r.get("ename") != "Interrupted":
            problems.append(f"interrupted loop replied {r['status']} {r.get('ename')}")
        print(f"loop stopped {time.time() - t0:.1f}s after the interrupt request")
        after = reply(kc, kc.execute("spins > 0 ? \"alive\" : \"not run\""))
        if after["status"] != "ok":
            problems.append(f"cell after the interrupt: {after}")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    for p in problems:
        print("  - " + p)
    print("protocol checks:", "FAILED" if problems else "ok")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
