"""Draws bench/streaming/results/summary.json as one standalone SVG
(results/summary.svg): per subscriber level, delivery p50/p99 against the 1 s
target, and server RSS with the streams open against the 512 MiB target.
Standard library only: `python3 bench/streaming/plot.py`."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
P99_TARGET_S = 1.0
RSS_TARGET_MIB = 512


def bars(x0, title, unit, target, series, levels, colors):
    """One panel of grouped bars; returns SVG text. series: [(name, [values])]."""
    width, height, pad = 300, 260, 40
    top = max([target] + [v for _, vs in series for v in vs]) * 1.15
    y = lambda v: height - pad - (height - 2 * pad) * v / top
    group_w = (width - 2 * pad) / len(levels)
    bar_w = group_w / (len(series) + 1)
    out = [f'<text x="{x0 + pad}" y="20" font-size="13">{title}</text>',
           f'<line x1="{x0 + pad}" y1="{height - pad}" x2="{x0 + width - pad}" y2="{height - pad}" stroke="black"/>',
           f'<line x1="{x0 + pad}" y1="{y(target):.1f}" x2="{x0 + width - pad}" y2="{y(target):.1f}" '
           f'stroke="red" stroke-dasharray="4 3"/>',
           f'<text x="{x0 + pad + 2}" y="{y(target) - 4:.1f}" fill="red">target {target:g} {unit}</text>']
    for i, level in enumerate(levels):
        gx = x0 + pad + i * group_w
        out.append(f'<text x="{gx + group_w / 2:.1f}" y="{height - pad + 14}" text-anchor="middle">{level:,} subs</text>')
        for j, (name, values) in enumerate(series):
            v = values[i]
            bx = gx + bar_w * (j + 0.5)
            out.append(f'<rect x="{bx:.1f}" y="{y(v):.1f}" width="{bar_w * 0.9:.1f}" height="{y(0) - y(v):.1f}" '
                       f'fill="{colors[j]}"/>')
            out.append(f'<text x="{bx + bar_w * 0.45:.1f}" y="{y(v) - 3:.1f}" text-anchor="middle">{v:g}</text>')
    for j, (name, _) in enumerate(series):
        out.append(f'<text x="{x0 + pad + 90 * j}" y="{height - 6}" fill="{colors[j]}">{name}</text>')
    return "\n".join(out)


def main():
    with open(os.path.join(HERE, "results", "summary.json")) as f:
        runs = json.load(f)
    levels = [r["connections"] for r in runs]
    left = bars(0, "delivery time after a post (s)", "s", P99_TARGET_S,
                [("p50", [r["delivery_p50_s"] for r in runs]), ("p99", [r["delivery_p99_s"] for r in runs])],
                levels, ["steelblue", "darkorange"])
    right = bars(320, "server RSS with the streams open (MiB)", "MiB", RSS_TARGET_MIB,
                 [("RSS", [r["rss_with_streams_mib"] for r in runs]), ("peak", [r["rss_peak_mib"] for r in runs])],
                 levels, ["seagreen", "gray"])
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="270" font-family="sans-serif" font-size="11">\n'
           '<rect width="100%" height="100%" fill="white"/>\n' + left + "\n" + right + "\n</svg>\n")
    with open(os.path.join(HERE, "results", "summary.svg"), "w") as f:
        f.write(svg)


if __name__ == "__main__":
    main()
