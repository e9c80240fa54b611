#!/usr/bin/env python3
"""No file under backends/ writes a phase as a bare number in SQL (issue 18).

Phases are stored as their enum's integer (core/phase.hpp, core/fluid_links.hpp), and
backends/live/phase_sql.hpp is the one place that spells them, as STEPQ_SQL_* macros held to the
enums by static_asserts. This check reads the C++ string literals of every other .cpp and .hpp
under backends/ (adjacent literals joined, a macro between them standing for a phase) and fails
on `phase = 2`, `phase IN (0, 1`, `phase < 4`, `phase BETWEEN 0 …` and on a number after THEN or
ELSE in `phase = CASE … END`; and on a C++ constant such as `constexpr int kReady = 2` that
restates a phase. Prints each with its file and line, and exits 1 if there is any.
"""
import os
import re
import sys

here = os.path.abspath(__file__)
root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(here)))
header = os.path.join("backends", "live", "phase_sql.hpp")

ident_re = re.compile(r"[A-Za-z_]\w*")
bare_re = re.compile(r"\bphase\s*(?:=|<>|!=|<=|>=|<|>|\bIN\b|\bBETWEEN\b)\s*\(?\s*\d", re.I)
case_re = re.compile(r"\bphase\s*=\s*CASE\b(.*?)\bEND\b", re.I | re.S)
case_digit_re = re.compile(r"\b(?:THEN|ELSE)\s+\d", re.I)
constant_re = re.compile(r"\bconstexpr\b[^;=]*\bk(?:Dormant|Waiting|Ready|Running|Completed|Failed|Cancelled)\s*=\s*\d")


def literal_runs(text):
    """(line, text) of each run of adjacent string literals; a STEPQ_SQL_* macro inside a run
    stands for a phase (\u00a7)."""
    out, run, run_line, i, n = [], None, 0, 0, len(text)

    def line_of(pos):
        return text.count("\n", 0, pos) + 1

    def add(piece, pos):
        nonlocal run, run_line
        if run is None:
            run, run_line = [], line_of(pos)
        run.append(piece)

    def flush():
        nonlocal run
        if run is not None:
            out.append((run_line, "".join(run)))
        run = None

    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "#":  # a preprocessor line (#include "…", #define): not SQL
            flush()
            while True:
                j = text.find("\n", i)
                if j < 0 or not text[:j].endswith("\\"):
                    break
                i = j + 1
            i = n if j < 0 else j
        elif ident_re.match(text, i):
            m = ident_re.match(text, i)
            word, j = m.group(0), m.end()
            if j < n and text[j] == '"' and word in ("R", "u8R", "uR", "UR", "LR"):
                k = text.index("(", j)
                close = ")" + text[j + 1:k] + '"'
                end = text.index(close, k)
                add(text[k + 1:end], i)
                i = end + len(close)
            elif j < n and text[j] == '"' and word in ("u8", "u", "U", "L"):
                i = j
            elif word.startswith("STEPQ_SQL_"):
                add("\u00a7", i)
                i = j
            else:
                flush()
                i = j
        elif c == '"':
            j, buf = i + 1, []
            while text[j] != '"':
                buf.append(text[j:j + 2] if text[j] == "\\" else text[j])
                j += 2 if text[j] == "\\" else 1
            add("".join(buf), i)
            i = j + 1
        elif c == "'" and not (i > 0 and text[i - 1].isalnum()):  # a char literal, not a digit separator
            m = re.match(r"'(?:\\.[^']*|[^'\\])'", text[i:])
            flush()
            i += m.end() if m else 1
        else:
            flush()
            i += 1
    flush()
    return out


def problems(path, text):
    for line, s in literal_runs(text):
        for m in bare_re.finditer(s):
            yield line, "a bare phase number in SQL: ..." + m.group(0)
        for m in case_re.finditer(s):
            for d in case_digit_re.finditer(m.group(1)):
                yield line, "a bare phase number in SQL: phase = CASE ... " + d.group(0)
    for m in constant_re.finditer(text):
        yield text.count("\n", 0, m.start()) + 1, "a phase restated as a constant: " + m.group(0)


found = 0
for d, _, files in os.walk(os.path.join(root, "backends")):
    for f in sorted(files):
        path = os.path.join(d, f)
        rel = os.path.relpath(path, root)
        if not f.endswith((".cpp", ".hpp", ".h")) or rel == header:
            continue
        for line, what in problems(rel, open(path, encoding="utf-8").read()):
            print(f"{rel}:{line}: {what}; use the STEPQ_SQL_* macros of {header}")
            found += 1
sys.exit(1 if found else 0)
