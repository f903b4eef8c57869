"""Package dependency graph of lib/src/main/java (imports and fully qualified references), and its cycles.

  python3 tests/tools/package_graph.py [--dot]
Prints each package with the packages it uses, then every cycle (strongly connected component of more than one
package); exit 1 when there is a cycle. docs/ARCHITECTURE.md is checked against this.
"""
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "lib", "src", "main", "java")
PREFIX = "org.routecal"


def packages():
    deps = defaultdict(set)
    ref = re.compile(r"\b(org\.routecal(?:\.[a-z][a-z0-9_]*)*)\.[A-Z]")
    for d, _, files in os.walk(ROOT):
        for f in files:
            if not f.endswith(".java"):
                continue
            text = open(os.path.join(d, f), encoding="utf-8").read()
            # references in comments (Javadoc links) are documentation, not dependencies
            text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
            text = re.sub(r"//[^\n]*", "", text)
            pkg = re.search(r"^package ([\w.]+);", text, re.M).group(1)
            deps.setdefault(pkg, set())
            for m in ref.finditer(text):
                p = m.group(1)
                if p != pkg:
                    deps[pkg].add(p)
    return deps


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]


def main():
    g = packages()
    short = lambda p: p[len(PREFIX) + 1:] if p.startswith(PREFIX + ".") else p
    if "--dot" in sys.argv:
        print("digraph routecal {")
        for p, ds in sorted(g.items()):
            for d in sorted(ds):
                print(f'  "{short(p)}" -> "{short(d)}";')
        print("}")
        return
    for p, ds in sorted(g.items()):
        print(f"{short(p):28s} -> {', '.join(sorted(short(d) for d in ds))}")
    cycles = sccs(g)
    for c in cycles:
        print("CYCLE:", " <-> ".join(sorted(short(p) for p in c)))
        for p in sorted(c):
            bad = sorted(short(d) for d in g[p] if d in c)
            print(f"   {short(p)} uses {', '.join(bad)}")
    sys.exit(1 if cycles else 0)


if __name__ == "__main__":
    main()
