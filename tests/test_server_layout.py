#!/usr/bin/env python3
"""test_server_layout.py — the server's files depend on each other one way.

A file A depends on a file B when A uses a name with external linkage
(function or variable) that B defines. That graph over server/*.c must have
no cycle, except the one a router needs by nature: http.c dispatches
through the route table (routes_ops.c) whose handlers reply through http.c;
that edge is the table `srv_routes` and is left out here. The shared facts
(configuration, clock, random ids) live in server.c, which uses no other
part, and a job's type in job.c, which records.c and queue.c both use.

Source reading only (no server run); stdlib Python.
usage: python3 tests/test_server_layout.py [path/to/t2i-server (unused)]
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_server_util import ROOT, check, finish  # noqa: E402

SERVER = os.path.join(ROOT, "server")
ROUTER_TABLE = {"srv_routes", "srv_n_routes"}


def strip(src):
    """Source without comments, string and character literals."""
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = re.sub(r"//[^\n]*", " ", src)
    src = re.sub(r'"(\\.|[^"\\\n])*"', '""', src)
    return re.sub(r"'(\\.|[^'\\\n])*'", "''", src)


def external_definitions(src):
    """Names of functions and variables a .c file defines with external
    linkage: top-level (column 0) definitions not marked static."""
    names = set()
    for line in src.splitlines():
        if not line or line[0] in " \t#}{/*" or line.startswith(("static", "typedef", "extern", "struct ", "enum ")):
            continue
        m = re.match(r"[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*(\(|\[|=|;)", line)
        if m and not line.rstrip().endswith(");"):
            names.add(m.group(1))
    return names


def graph():
    files = sorted(f for f in os.listdir(SERVER) if f.endswith(".c"))
    text = {f: strip(open(os.path.join(SERVER, f), encoding="utf-8").read()) for f in files}
    owner = {}
    for f in files:
        for name in external_definitions(text[f]):
            owner[name] = f
    edges = {f: {} for f in files}
    for f in files:
        for word in set(re.findall(r"\b[A-Za-z_]\w*\b", text[f])):
            g = owner.get(word)
            if g and g != f and word not in ROUTER_TABLE:
                edges[f].setdefault(g, []).append(word)
    return owner, edges


def cycles(edges):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
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
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def main():
    owner, edges = graph()
    for name in ("g_cfg", "srv_now", "srv_random_id", "g_models"):
        check(owner.get(name) == "server.c", f"{name} defined in server.c, not {owner.get(name)}")
    check(not edges.get("server.c"), f"server.c uses no other part: {edges.get('server.c')}")
    check("job_state_name" in owner and owner["job_state_name"] == "job.c", "the job type lives in job.c")
    found = cycles(edges)
    detail = [" -> ".join(c) + ": " + "; ".join(f"{a}->{b} {sorted(edges[a][b])[:4]}" for a in c for b in edges[a]
                                                 if b in c) for c in found]
    check(not found, f"dependency cycles among server/*.c: {detail}")
    print(f"  {len(edges)} files, {sum(len(e) for e in edges.values())} dependencies, no cycle" if not found else "")
    finish()


if __name__ == "__main__":
    main()
