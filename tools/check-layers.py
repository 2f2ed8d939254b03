#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make check-layers: the include graph follows the floors written in
docs/architecture.md, and no files call or include each other in a circle.

Floors: the block between `<!-- floors -->` and `<!-- /floors -->` in
docs/architecture.md, one floor per line, lowest first, as
`N: folder folder ...`. A file belongs to the longest listed folder that
holds it (a folder's sub-folders listed on their own are not part of it).
Rule 1: a file may include only files of its own folder or of a folder on a
lower floor (two folders on one floor are independent of each other).
Rule 2: no circle of files: edges are `#include "x.h"` (to x.c when it
exists, else the header) and calls seen in the objects (`nm`: a symbol one
object uses that another defines). tools/ and tests/ are not checked
against floors (they stand beside the program) but their files may not
form circles either.
Usage: check-layers.py [--obj DIR]   (DIR: the build's object tree)."""
import os, re, subprocess, sys

def floors(doc='docs/architecture.md'):
    text = open(doc).read()
    m = re.search(r'<!-- floors -->(.*?)<!-- /floors -->', text, re.S)
    if not m:
        sys.exit('check-layers: no <!-- floors --> block in ' + doc)
    out = {}
    for line in m.group(1).splitlines():
        mm = re.match(r'\s*(\d+):\s*(.+)', line)
        if mm:
            for d in mm.group(2).split():
                out[d.strip('/')] = int(mm.group(1))
    return out

def folder_of(path, fl):
    best = None
    for d in fl:
        if os.path.dirname(path) == d or path.startswith(d + '/'):
            if best is None or len(d) > len(best):
                best = d
    return best

def sources():
    files = subprocess.check_output(['git', 'ls-files', '-co', '--exclude-standard',
                                     '*.c', '*.h']).decode().split()
    return [f for f in files if os.path.exists(f) and not f.startswith('build')]

INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

def includes(f):
    return INC.findall(open(f, errors='replace').read())

def check_floors(fl, files):
    bad = []
    for f in files:
        src = folder_of(f, fl)
        if src is None:
            continue
        for inc in includes(f):
            dst = folder_of(inc, fl)
            if dst is None or dst == src:
                continue
            if fl[dst] >= fl[src]:
                bad.append(f'{f}: includes {inc} ({dst}, floor {fl[dst]}) '
                           f'from {src} (floor {fl[src]})')
    return bad

def nm_edges(objdir, files):
    """Calls between objects: file -> file defining a symbol it uses. A
    tool's file resolves first within its own tool, then in the library."""
    defs, uses = {}, {}
    for f in files:
        if not f.endswith('.c') or f.startswith('tests/'):
            continue
        o = os.path.join(objdir, f[:-2] + '.o')
        if not os.path.exists(o):
            continue
        for line in subprocess.check_output(['nm', o]).decode().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in 'TDBR':
                defs.setdefault(parts[2], []).append(f)
            elif len(parts) == 2 and parts[0] == 'U':
                uses.setdefault(f, set()).add(parts[1])
    edges = {}
    for f, syms in uses.items():
        home = os.path.dirname(f) if f.startswith('tools/') else None
        for s in syms:
            cands = defs.get(s, [])
            mine = [g for g in cands if home and os.path.dirname(g) == home]
            lib = [g for g in cands if not g.startswith('tools/')]
            for g in (mine or lib)[:1]:
                if g != f:
                    edges.setdefault(f, set()).add(g)
    return edges

def inc_edges(files):
    have = set(files)
    edges = {}
    for f in files:
        for inc in includes(f):
            c = inc[:-2] + '.c' if inc.endswith('.h') else inc
            t = c if c in have else inc
            if t in have and t != f and t != f[:-2] + '.c':
                edges.setdefault(f[:-2] + '.c' if f.endswith('.h') and
                                 f[:-2] + '.c' in have else f, set()).add(t)
    return edges

def circles(edges):
    idx, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
    def visit(v):
        idx[v] = low[v] = n[0]; n[0] += 1
        stack.append(v); on.add(v)
        for w in edges.get(v, ()):
            if w not in idx:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], idx[w])
        if low[v] == idx[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in list(edges):
        if v not in idx:
            visit(v)
    return out

def main():
    objdir = 'build/obj'
    if '--obj' in sys.argv:
        objdir = sys.argv[sys.argv.index('--obj') + 1]
    fl = floors()
    files = sources()
    bad = check_floors(fl, files)
    edges = inc_edges(files)
    for f, ts in nm_edges(objdir, files).items():
        edges.setdefault(f, set()).update(ts)
    circ = circles(edges)
    for b in bad:
        print('upward include: ' + b)
    for c in circ:
        ties = [f'{a} -> {b}' for a in c for b in sorted(edges.get(a, ())) if b in c]
        print('circle: ' + ', '.join(c) + '\n    ' + '\n    '.join(ties))
    if bad or circ:
        print(f'layers: {len(bad)} upward include(s), {len(circ)} circle(s)')
        return 1
    print(f'layers: {len(fl)} folders on {len(set(fl.values()))} floors, '
          'includes one-way, no circles')
    return 0

if __name__ == '__main__':
    sys.exit(main())
