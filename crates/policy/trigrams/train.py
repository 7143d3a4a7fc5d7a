#!/usr/bin/env python3
"""Writes trigrams.bin: how surprising each character is after the two before it, in text
that people and programs write (source code, docs, configs), for the redactor's test that
tells a random password from code with symbols.

    train.py [REGISTRY_SRC_DIR] [OUT]

Reads the text files of every crate under REGISTRY_SRC_DIR (default: cargo's registry
sources) whose path relative to it has a SHA-1 starting with 0-7: the other half is kept
for measuring false alarms. At most 200 KB per file, so that large generated tables do not
outweigh the rest. Characters are 0-94 for ' '..'~' and 95 for anything else (tabs,
newlines, bytes of non-ASCII text).

Output: 96^3 four-bit cells, two per byte (low nibble first), cell (a*96 + b)*96 + c
holding round(-log2 P(c | a b)) clipped to 15, where P mixes the trigram's frequency with
the bigram's (Witten-Bell-like weight n/(n+20) on the trigram; the bigram smoothed by half
a count). Deterministic for a given set of files.
"""
import hashlib
import math
import os
import sys
from array import array

EXTS = ('.rs', '.md', '.toml', '.txt', '.c', '.h', '.py', '.js', '.json', '.yml', '.yaml',
        '.sh', '.html', '.cc', '.cpp', '.go', '.s', '.S')
N = 96


def training_files(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if p.endswith(EXTS) and hashlib.sha1(rel.encode()).digest()[0] < 0x80:
                out.append(p)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser('~/.cargo/registry/src')
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), 'trigrams.bin')
    table = bytes(c - 32 if 32 <= c < 127 else 95 for c in range(256))
    tri = array('q', [0]) * (N * N * N)
    bi = array('q', [0]) * (N * N)
    files = training_files(root)
    total = 0
    for p in files:
        try:
            with open(p, 'rb') as f:
                b = f.read(200_000).translate(table)
        except OSError:
            continue
        total += len(b)
        for i in range(len(b) - 2):
            x, y, z = b[i], b[i + 1], b[i + 2]
            tri[(x * N + y) * N + z] += 1
            bi[x * N + y] += 1
        if len(b) >= 2:
            bi[b[-2] * N + b[-1]] += 1
    ctx1 = [sum(bi[a * N:(a + 1) * N]) for a in range(N)]
    cells = bytearray(N * N * N)
    for a in range(N):
        for b in range(N):
            base = (a * N + b) * N
            n2 = sum(tri[base:base + N])
            lam = n2 / (n2 + 20)
            for c in range(N):
                pb = (bi[b * N + c] + 0.5) / (ctx1[b] + 0.5 * N)
                p = lam * tri[base + c] / n2 + (1 - lam) * pb if n2 else pb
                cells[base + c] = min(15, round(-math.log2(p)))
    packed = bytes(cells[i] | (cells[i + 1] << 4) for i in range(0, len(cells), 2))
    with open(out, 'wb') as f:
        f.write(packed)
    print(f'{len(files)} files, {total} bytes -> {out} ({len(packed)} bytes)', file=sys.stderr)


if __name__ == '__main__':
    main()
