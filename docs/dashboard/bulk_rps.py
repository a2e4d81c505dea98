#!/usr/bin/env python3
"""Draws the README's dashboard picture: requests per second during a bulk
send in the embedded sandbox, against the plan's line, from the figures the
CLI exports with --otlp.

    cargo build -p whispir-cli
    python3 docs/dashboard/bulk_rps.py            # writes docs/dashboard/bulk-send-rps.svg

It runs `whispir --sandbox --otlp http://127.0.0.1:PORT bulk send --per-row` on a CSV
of --rows rows with exports every second (OTEL_METRIC_EXPORT_INTERVAL),
receives the OTLP/HTTP exports itself (protobuf, decoded here: standard
library only), and turns the cumulative counts into requests per second.
The count is `http.client.request.duration`'s (one per HTTP attempt) when
the SDK exports it, else `whispir.bulk.rows` (one per row, one request
each); it prints and writes on the chart which one it used.
"""

import argparse
import http.server
import json
import os
import pathlib
import struct
import subprocess
import sys
import tempfile
import threading

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLANS = {"5": 5, "10": 10, "30": 30}


# --- OTLP protobuf, only the fields the chart needs ---------------------------


def fields(data):
    """Yields (field number, wire type, value) of one protobuf message."""
    i = 0
    while i < len(data):
        key, i = varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(data, i)
        elif wire == 1:
            value, i = data[i : i + 8], i + 8
        elif wire == 2:
            length, i = varint(data, i)
            value, i = data[i : i + length], i + length
        elif wire == 5:
            value, i = data[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def varint(data, i):
    shift = result = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, i
        shift += 7


def attributes(points_field):
    out = {}
    for number, _, value in fields(points_field):
        if number == 1:
            key = value.decode()
        elif number == 2:
            for n, _, v in fields(value):
                out_value = v.decode() if n == 1 else v
                out[key] = out_value
    return out


def number_point(data):
    point = {"attributes": {}, "start": 0, "time": 0, "value": 0}
    for number, _, value in fields(data):
        if number == 7:
            point["attributes"].update(attributes(value))
        elif number == 2:
            point["start"] = struct.unpack("<Q", value)[0]
        elif number == 3:
            point["time"] = struct.unpack("<Q", value)[0]
        elif number == 6:
            point["value"] = struct.unpack("<q", value)[0]
        elif number == 4:
            point["value"] = struct.unpack("<d", value)[0]
    return point


def histogram_point(data):
    point = {"attributes": {}, "start": 0, "time": 0, "value": 0}
    for number, _, value in fields(data):
        if number == 9:
            point["attributes"].update(attributes(value))
        elif number == 2:
            point["start"] = struct.unpack("<Q", value)[0]
        elif number == 3:
            point["time"] = struct.unpack("<Q", value)[0]
        elif number == 4:
            point["value"] = struct.unpack("<Q", value)[0]
    return point


def metrics(body):
    """Yields (name, points) for each metric of an export request; a
    histogram's points carry their count as the value."""
    for number, _, resource_metrics in fields(body):
        if number != 1:
            continue
        for n, _, scope_metrics in fields(resource_metrics):
            if n != 2:
                continue
            for m, _, metric in fields(scope_metrics):
                if m != 2:
                    continue
                name, points = None, []
                for f, _, value in fields(metric):
                    if f == 1:
                        name = value.decode()
                    elif f == 7:  # sum
                        points += [number_point(v) for k, _, v in fields(value) if k == 1]
                    elif f == 9:  # histogram
                        points += [histogram_point(v) for k, _, v in fields(value) if k == 1]
                yield name, points


# --- the run ------------------------------------------------------------------


def receive(exports):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            exports.append(body)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(binary, rows, plan, timeout):
    exports = []
    server = receive(exports)
    with tempfile.TemporaryDirectory() as folder:
        csv = pathlib.Path(folder, "rows.csv")
        csv.write_text(
            "to,name\n" + "".join(f"614{10000 + i:08},Person {i}\n" for i in range(rows))
        )
        env = {
            "PATH": os.environ.get("PATH", ""),
            "WHISPIR_CONFIG": str(pathlib.Path(folder, "none.toml")),
            "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        }
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        command = [binary, "--sandbox", "--otlp", endpoint, "bulk", "send", str(csv), "--per-row"]
        command += ["--template", "Hi {name}", "--plan", plan]
        print("$", " ".join(command[1:]), file=sys.stderr)
        # Bounded: a send that hangs fails the run instead of holding CI up.
        subprocess.run(command, env=env, cwd=folder, check=True, timeout=timeout)
    server.shutdown()
    return exports


def series(exports):
    """The cumulative count over time of the metric used (from 0 when its
    first figure was recorded), and its name."""
    by_metric, starts = {}, {}
    for body in exports:
        for name, points in metrics(body):
            if not points:
                continue
            time = max(p["time"] for p in points)
            total = sum(p["value"] for p in points)
            by_metric.setdefault(name, {})[time] = total
            start = min(p["start"] for p in points)
            starts[name] = min(starts.get(name, start), start)
    for name in ("http.client.request.duration", "whispir.bulk.rows"):
        if name in by_metric:
            counts = by_metric[name]
            counts.setdefault(starts[name], 0)
            return name, sorted(counts.items())
    raise SystemExit(f"no request count in the exports (metrics: {sorted(by_metric)})")


WINDOW_NS = 5e9


def rates(points, window=WINDOW_NS):
    """(seconds since the start, requests per second over the last `window`
    ns), as a dashboard's rate over a window draws it. A request is counted
    when its answer comes and exports are about a second apart, so the
    count between two exports alone wobbles around the plan; the limiter's
    promise is about any second, and a few seconds' rate shows it."""
    start = points[0][0]
    drawn = []
    for t1, c1 in points[1:]:
        earlier = [(t0, c0) for t0, c0 in points if t1 - t0 >= window]
        if not earlier:
            continue  # the first window is not full yet
        t0, c0 = earlier[-1]
        if t1 > t0:
            drawn.append(((t1 - start) / 1e9, (c1 - c0) / ((t1 - t0) / 1e9)))
    return drawn


# --- the chart ----------------------------------------------------------------


def svg(points, plan, source, rows, total):
    width, height = 720, 340
    left, right, top, bottom = 60, 20, 56, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    t_max = max(max(t for t, _ in points), 1.0)
    y_max = max(plan * 1.5, max(r for _, r in points) * 1.1)
    per_row = ": one request per row" if source == "whispir.bulk.rows" else ""
    x = lambda t: left + plot_w * t / t_max
    y = lambda r: top + plot_h * (1 - r / y_max)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="22" font-size="15" font-weight="bold">'
        f"Requests per second during a bulk send ({rows} rows, sandbox; rate over {WINDOW_NS / 1e9:.0f} s)</text>",
        f'<text x="{left}" y="40" fill="#555">from {source} ({total} counted{per_row}), '
        f"exported by whispir --otlp every second</text>",
    ]
    step = 1 if y_max <= 10 else 5 if y_max <= 50 else 10
    r = 0
    while r <= y_max:
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(r):.1f}" y2="{y(r):.1f}" stroke="#e5e5e5"/>'
        )
        out.append(f'<text x="{left - 8}" y="{y(r) + 4:.1f}" text-anchor="end">{r}</text>')
        r += step
    t_step = max(1, round(t_max / 10))
    t = 0
    while t <= t_max:
        out.append(f'<text x="{x(t):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{t}</text>')
        t += t_step
    out.append(
        f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">seconds</text>'
    )
    out.append(
        f'<text x="14" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2})">requests per second</text>'
    )
    out.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{y(plan):.1f}" y2="{y(plan):.1f}" '
        f'stroke="#c0392b" stroke-width="2" stroke-dasharray="6 4"/>'
    )
    out.append(
        f'<text x="{left + 8}" y="{y(plan) + 16:.1f}" fill="#c0392b">'
        f"plan: {plan} per second</text>"
    )
    path = " ".join(f"{x(t):.1f},{y(r):.1f}" for t, r in points)
    out.append(f'<polyline points="{path}" fill="none" stroke="#2471a3" stroke-width="2"/>')
    for t, r in points:
        out.append(f'<circle cx="{x(t):.1f}" cy="{y(r):.1f}" r="2.5" fill="#2471a3"/>')
    out.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    parser.add_argument("--bin", default=str(target / "debug" / "whispir"))
    parser.add_argument("--rows", type=int, default=150)
    parser.add_argument("--plan", choices=sorted(PLANS), default="5")
    parser.add_argument("--out", default=str(ROOT / "docs" / "dashboard" / "bulk-send-rps.svg"))
    parser.add_argument(
        "--timeout", type=float, help="seconds the bulk send may take (default: its rows at the plan's rate, thrice, plus 60)"
    )
    args = parser.parse_args()
    timeout = args.timeout or 3 * args.rows / PLANS[args.plan] + 60
    # The send runs in a temporary folder: a relative path is made whole
    # here (a bare name is looked up in PATH, as usual).
    binary = str(pathlib.Path(args.bin).resolve()) if os.sep in args.bin else args.bin
    exports = run(binary, args.rows, args.plan, timeout)
    source, points = series(exports)
    if len(points) < 2:
        raise SystemExit(f"too few exports to draw a rate ({len(points)})")
    # Each row is one request (and one row counted): fewer means figures
    # were lost on the way, and the chart would show a run that did not happen.
    if points[-1][1] < args.rows:
        raise SystemExit(
            f"{source} counted {points[-1][1]} of {args.rows} rows: the last export was lost"
        )
    per_second = rates(points)
    if not per_second:
        raise SystemExit(
            f"the send took less than the {WINDOW_NS / 1e9:.0f} s window: give more --rows"
        )
    plan = PLANS[args.plan]
    pathlib.Path(args.out).write_text(svg(per_second, plan, source, args.rows, points[-1][1]))
    peak = max(r for _, r in per_second)
    print(
        json.dumps(
            {
                "source": source,
                "exports": len(points),
                "counted": points[-1][1],
                "peak_per_second": round(peak, 2),
                "plan_per_second": plan,
                "svg": args.out,
            }
        )
    )


if __name__ == "__main__":
    main()
