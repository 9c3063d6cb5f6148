#!/usr/bin/env python3
"""Checks that the library's modules import each other without a cycle.

A module is a file under src/ (src/bin/ is the CLI, not the library). An edge a -> b means
code in a names an item of b through a `crate::`, `super::` or child-relative path. Not counted: re-exports
(`pub use`, a facade that adds no logic), comments and doc comments, and test modules
(`#[cfg(test)]` to the end of the file). Exit 1 and print each cycle when there is one.

    python3 .ci/module_cycles.py [SRC_DIR]
"""

import re
import sys
from pathlib import Path

src = Path(sys.argv[1] if len(sys.argv) > 1 else "src")


def module_of(path: Path) -> tuple:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return tuple(parts)


files = {
    module_of(p): p
    for p in src.rglob("*.rs")
    if "bin" not in p.relative_to(src).parts[:1]
}
modules = set(files)

PATH = re.compile(r"\b(crate|super)((?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))+)")
CHILD = re.compile(r"(?<![:\w])(?:self::)?([a-z_][a-z0-9_]*)::")
BRACED = re.compile(r"\b(crate|super)((?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))*)::\{([^}]*)\}")


def resolve(me: tuple, head: str, rest: list) -> tuple:
    """The deepest known module a path names, or None."""
    if head == "crate":
        base = []
    else:
        base = list(me[:-1])
    for seg in rest:
        if seg == "super":
            base = base[:-1]
        else:
            base.append(seg)
    # Longest prefix that is a module (the rest names an item inside it).
    for k in range(len(base), -1, -1):
        if tuple(base[:k]) in modules:
            return tuple(base[:k])
    return None


edges = {m: set() for m in modules}
for me, path in files.items():
    text = path.read_text()
    cut = text.find("#[cfg(test)]")
    if cut >= 0:
        text = text[:cut]
    # A `super::` in a file names the parent of the file's module.
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("//") or s.startswith("pub use") or s.startswith("pub(crate) use"):
            continue
        found = []
        for m in BRACED.finditer(s):
            prefix = [x for x in m.group(2).split("::") if x]
            for item in m.group(3).split(","):
                item = item.strip().split(" as ")[0].split("::")[0].strip()
                if item and item != "self":
                    found.append((m.group(1), prefix + [item]))
                elif item == "self":
                    found.append((m.group(1), prefix))
        for m in PATH.finditer(s):
            found.append((m.group(1), [x for x in m.group(2).split("::") if x]))
        # Paths relative to this module: `child::item`, `self::child::item`.
        for m in CHILD.finditer(s):
            if me + (m.group(1),) in modules:
                found.append(("crate", list(me) + [m.group(1)]))
        for head, rest in found:
            target = resolve(me, head, rest)
            if target is not None and target != me:
                edges[me].add(target)

# Cycles: strongly connected components with more than one module.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def strong(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges[v]:
        if w not in index:
            strong(w)
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
            sccs.append(comp)


sys.setrecursionlimit(10000)
for v in sorted(modules):
    if v not in index:
        strong(v)

name = lambda m: "::".join(("crate",) + m)
if sccs:
    for comp in sccs:
        members = sorted(comp)
        print("cycle among: " + ", ".join(name(m) for m in members))
        for a in members:
            for b in sorted(edges[a] & set(comp)):
                print(f"  {name(a)} -> {name(b)}")
    sys.exit(1)
print(f"{len(modules)} library modules, {sum(len(e) for e in edges.values())} import edges, no cycle")
