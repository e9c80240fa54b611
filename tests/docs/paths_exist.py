#!/usr/bin/env python3
"""Every repository path named in README.md, docs/ and source comments exists (issue 18).

A path is a word that starts with one of the repository's top-level folders (core/, sim/,
backends/, cli/, reports/, scenarios/, tests/, bench/, scripts/, docs/) and names a file or folder
(`core/erlang.hpp`, `backends/sqlite/`). Not checked: paths under build/ (made by the build),
ones with a wildcard or a placeholder (`*`, `<`, `NAME`, `...`), and ones outside a comment in
source files (code builds its own paths). Prints each missing path with where it is named, and
exits 1 if there is any.
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
tops = ("core", "sim", "backends", "cli", "reports", "scenarios", "tests", "bench", "scripts", "docs")
path_re = re.compile(r"(?<![\w./-])((?:%s)/[\w.+/-]*[\w/])" % "|".join(tops))


def comment_text(path, text):
    """The comments of a source file: // and /* */ in C++, # in CMake, shell and Python."""
    if path.endswith((".cpp", ".hpp", ".h", ".c")):
        out = []
        for m in re.finditer(r"//[^\n]*|/\*.*?\*/", text, re.S):
            out.append(m.group(0))
        return "\n".join(out)
    if path.endswith((".txt", ".cmake", ".sh", ".py")) or os.path.basename(path) in ("run", "CMakeLists.txt"):
        return "\n".join(l[l.index("#"):] for l in text.splitlines() if "#" in l)
    return text


def candidates():
    yield os.path.join(root, "README.md")
    for d, _, files in os.walk(os.path.join(root, "docs")):
        for f in files:
            if f.endswith(".md"):
                yield os.path.join(d, f)
    for top in tops + (".ci",):
        for d, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = [x for x in dirs if x not in ("node_modules", "build")]
            for f in files:
                if f.endswith((".cpp", ".hpp", ".h", ".txt", ".cmake", ".sh", ".py")) or f == "run":
                    yield os.path.join(d, f)
    yield os.path.join(root, "CMakeLists.txt")


missing = []
for f in candidates():
    try:
        text = open(f, encoding="utf-8").read()
    except (OSError, UnicodeDecodeError):
        continue
    body = text if f.endswith(".md") else comment_text(f, text)
    for m in path_re.finditer(body):
        p = m.group(1).rstrip(".")
        if any(x in p for x in ("*", "<", "NAME", "...", "XXXX")):
            continue
        if not os.path.exists(os.path.join(root, p)):
            missing.append((os.path.relpath(f, root), p))

for where, p in sorted(set(missing)):
    print(f"{where}: names {p}, which does not exist")
sys.exit(1 if missing else 0)
