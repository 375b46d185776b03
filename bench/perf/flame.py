#!/usr/bin/env python3
"""A flame graph from `perf script` output, with no tool beyond Python.

    perf record -e cpu-clock -F 499 --call-graph dwarf -p PID -o perf.data -- sleep 10
    perf script -i perf.data | python3 bench/perf/flame.py --title "home timeline" > flame.svg

Each sample's stack (root first) becomes one path; a frame's width is the share
of samples whose stack passes through it. Frames are merged by name at each
depth, ordered alphabetically (as flame graphs are: x is not time). Also prints
the 25 heaviest functions by inclusive samples to stderr.
"""

import argparse
import html
import re
import sys
from collections import Counter, defaultdict

FRAME_RE = re.compile(r"^\s*[0-9a-f]+\s+(.*?)(?:\s+\((.*)\))?$")


def clean(symbol: str) -> str:
    # Rust symbols: drop the hash suffix and the offset.
    symbol = re.sub(r"\+0x[0-9a-f]+$", "", symbol)
    symbol = re.sub(r"::h[0-9a-f]{16}$", "", symbol)
    return symbol


def read_stacks(lines):
    stacks = Counter()
    frames = []
    comm = None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                stacks[tuple([comm] + list(reversed(frames)))] += 1
            frames, comm = [], None
            continue
        if not line.startswith((" ", "\t")):
            comm = line.split()[0]
            continue
        m = FRAME_RE.match(line)
        if m:
            sym = m.group(1)
            if sym == "[unknown]" and m.group(2):
                sym = "[" + m.group(2).rsplit("/", 1)[-1] + "]"
            frames.append(clean(sym))
    if frames:
        stacks[tuple([comm] + list(reversed(frames)))] += 1
    return stacks


class Node:
    __slots__ = ("name", "count", "children")

    def __init__(self, name):
        self.name, self.count, self.children = name, 0, {}


def build(stacks):
    root = Node("all")
    for stack, n in stacks.items():
        root.count += n
        node = root
        for f in stack:
            node = node.children.setdefault(f, Node(f))
            node.count += n
    return root


def colour(name):
    h = sum(ord(c) for c in name) % 60
    if "holdfast" in name:
        return f"rgb(230,{120 + h},60)"
    if "sqlite" in name:
        return f"rgb(80,{140 + h},200)"
    return f"rgb(220,{80 + h},{60 + h // 2})"


def render(root, title, width=1400, row=16):
    rects = []
    depth_max = [0]

    def walk(node, x, depth):
        w = node.count / root.count * width
        if w < 0.3:
            return
        depth_max[0] = max(depth_max[0], depth)
        rects.append((x, depth, w, node))
        cx = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            walk(child, cx, depth + 1)
            cx += child.count / root.count * width

    walk(root, 0.0, 0)
    height = (depth_max[0] + 3) * row + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="11">',
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="6" y="18" font-size="14" font-family="sans-serif">{html.escape(title)} ({root.count} samples)</text>',
    ]
    for x, depth, w, node in rects:
        y = height - (depth + 1) * row - 4
        pct = 100.0 * node.count / root.count
        label = html.escape(node.name)
        out.append(
            f'<g><title>{label} ({node.count} samples, {pct:.2f} %)</title>'
            f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{row - 1}" fill="{colour(node.name)}" rx="2"/>'
        )
        chars = int(w / 6.6)
        if chars >= 4:
            text = node.name if len(node.name) <= chars else node.name[: chars - 2] + ".."
            out.append(f'<text x="{x + 3:.2f}" y="{y + row - 4}">{html.escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--title", default="holdfast")
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    stacks = read_stacks(sys.stdin)
    if not stacks:
        sys.exit("no samples in the input")
    root = build(stacks)
    inclusive = defaultdict(int)
    for stack, n in stacks.items():
        for f in set(stack[1:]):
            inclusive[f] += n
    total = root.count
    for f, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[: a.top]:
        print(f"{100.0 * n / total:6.2f} %  {f}", file=sys.stderr)
    print(render(root, a.title))


if __name__ == "__main__":
    main()
