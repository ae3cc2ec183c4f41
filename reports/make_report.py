#!/usr/bin/python3
"""Render one sluice-bench run as plots and a Markdown summary.

    /usr/bin/python3 reports/make_report.py [RUN_DIR] [OUT_DIR]

RUN_DIR defaults to the newest folder under results/ holding result files; OUT_DIR defaults to
reports/latest/ (its old PNG and Markdown files are removed first). Reads every
"sluice-bench-result/1" JSON file of the run (results/README.md), plus peer-status.json and
machine.json when present, and the nexmark level's nexmark.json, and writes throughput.png,
duckdb_ratio.png, scaling.png, latency.png, nexmark.png and summary.md. Prints the verdict table.
Exits 1 only when there are no results.
"""

import glob
import json
import math
import os
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter  # noqa: E402

SCHEMA = "sluice-bench-result/1"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANCHORS = os.path.join(REPO, "reports", "anchors.json")
NOT_RESULTS = {"peer-status.json", "machine.json", "peer-spec.json", "state-backends.json", "nexmark.json"}
# Files of levels that are not scenarios: a run holding only these still has a report.
LEVEL_FILES = ("state-backends.json", "nexmark.json")
NEXMARK_GOAL = 10  # issue #22's aim: at least 10x Flink's published per-core figure
S4 = "s4_multi_source"
LEVEL_ORDER = {"core": 0, "codec": 1, "e2e": 2, "latency": 3, "batch": 4}

COLORS = {"core": "#1f77b4", "codec": "#8fbbe0", "duckdb": "#ff9f1c"}
ANCHOR_COLORS = {"velostream": "#7b3294", "flink": "#8c510a", "other": "#555555"}
PLOTS = ["throughput.png", "duckdb_ratio.png", "scaling.png", "latency.png", "nexmark.png"]


def warn(message):
    print(f"make_report: {message}", file=sys.stderr)


# --- reading ---------------------------------------------------------------------------------


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        warn(f"skipping {path}: {e}")
        return None


def result_files(run_dir):
    out = []
    for path in sorted(glob.glob(os.path.join(run_dir, "*.json"))):
        if os.path.basename(path) in NOT_RESULTS:
            continue
        data = read_json(path)
        if isinstance(data, dict) and data.get("schema") == SCHEMA and data.get("scenario"):
            data["_file"] = os.path.basename(path)
            out.append(data)
    return out


def has_level_files(run_dir):
    return any(os.path.exists(os.path.join(run_dir, name)) for name in LEVEL_FILES)


def read_nexmark(run_dir):
    """The nexmark level's file (nexmark.json), or None."""
    path = os.path.join(run_dir, "nexmark.json")
    data = read_json(path) if os.path.exists(path) else None
    if not isinstance(data, dict) or not isinstance(data.get("queries"), list):
        return None
    data["queries"] = [q for q in data["queries"] if isinstance(q, dict) and q.get("query")]
    return data


def nexmark_rate(q, mode, field="median"):
    m = q.get(mode)
    rates = m.get("events_per_second_per_core") if isinstance(m, dict) else None
    return num(rates.get(field)) if isinstance(rates, dict) else None


def nexmark_ratio(q, mode):
    m = q.get(mode)
    return num(m.get("ratio_to_flink")) if isinstance(m, dict) else None


def nexmark_flink(q):
    f = q.get("flink_published")
    return num(f.get("events_per_second_per_core")) if isinstance(f, dict) else None


def newest_run_dir(results_root):
    if not os.path.isdir(results_root):
        return None
    for name in sorted(os.listdir(results_root), reverse=True):
        path = os.path.join(results_root, name)
        if os.path.isdir(path) and (result_files(path) or has_level_files(path)):
            return path
    return None


def num(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def stat(r, key, field="median"):
    block = r.get(key)
    return num(block.get(field)) if isinstance(block, dict) else None


def per_core(r, field="median"):
    """records_per_second_per_core, or records_per_second / threads when only that is recorded."""
    v = stat(r, "records_per_second_per_core", field)
    if v is None:
        total, t = stat(r, "records_per_second", field), threads_of(r)
        v = total / t if total is not None and t else None
    return v


def threads_of(r):
    t = r.get("threads")
    return t if isinstance(t, int) and not isinstance(t, bool) else None


def partitions_of(r):
    p = r.get("source_partitions")
    return p if isinstance(p, int) and not isinstance(p, bool) else 1


def placement_of(r):
    return r.get("placement") or "default"


def is_sluice(r):
    return r.get("engine", "sluice") == "sluice"


def is_duckdb(r):
    return r.get("engine") == "duckdb"


def checksum_status(r):
    c = r.get("checksum")
    return c.get("status") if isinstance(c, dict) and c.get("status") else None


def target_of(r):
    t = r.get("target")
    return num(t.get("records_per_second")) if isinstance(t, dict) else None


def state_target_of(r):
    """The bound on state bytes per key besides the keys' string bytes, if the scenario has one."""
    t = r.get("target")
    return num(t.get("state_bytes_per_key")) if isinstance(t, dict) else None


def state_per_key(r, field="bytes_per_key"):
    """State bytes per key besides the keys' own string bytes (field="string_bytes_per_key": those
    string bytes); None when the run held no keyed state."""
    state = r.get("state") if isinstance(r.get("state"), dict) else {}
    return num(state.get(field)) if num(state.get("keys")) and num(state.get("bytes")) else None


def latency_of(r, key):
    lat = r.get("latency_us")
    return num(lat.get(key)) if isinstance(lat, dict) else None


def sort_key(r):
    return (
        r.get("scenario", ""),
        0 if is_sluice(r) else 1,
        LEVEL_ORDER.get(r.get("level"), 9),
        threads_of(r) or 0,
        partitions_of(r),
        placement_of(r) != "default",
        placement_of(r),
        latency_of(r, "rate") or 0,
    )


def pick(results, scenario, level, engine="sluice", threads=1, partitions=1):
    """The one result for a plot cell; the default placement wins over the others."""
    found = [
        r
        for r in results
        if r.get("scenario") == scenario
        and r.get("level") == level
        and r.get("engine", "sluice") == engine
        and threads_of(r) == threads
        and partitions_of(r) == partitions
    ]
    found.sort(key=lambda r: (placement_of(r) != "default", placement_of(r)))
    return found[0] if found else None


# --- formatting ------------------------------------------------------------------------------


def human(value):
    """24.1M, 3.58K, 127K, 850."""
    v = num(value)
    if v is None:
        return "—"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= div * 0.9995:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"


def human_us(value):
    v = num(value)
    if v is None:
        return "—"
    if v >= 1e6:
        return f"{v / 1e6:.3g} s"
    if v >= 1e3:
        return f"{v / 1e3:.3g} ms"
    return f"{v:.3g} µs"


def ratio_text(value):
    if value is None:
        return "—"
    return f"{value:.0f}×" if value >= 1000 else f"{value:.3g}×"


def log_formatter():
    return FuncFormatter(lambda v, _pos: human(v) if v > 0 else "")


def scenario_tick(name):
    # "s2_group_by_1m_keys" -> "s2\ngroup_by_1m_keys": short ticks that do not collide
    head, _, tail = name.partition("_")
    return f"{head}\n{tail}" if tail else name


def wrap(text, width):
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


# --- run context -----------------------------------------------------------------------------


class Run:
    def __init__(self, run_dir, results):
        self.dir = run_dir
        self.results = sorted(results, key=sort_key)
        self.sluice = [r for r in self.results if is_sluice(r)]
        self.duckdb = [r for r in self.results if is_duckdb(r)]
        machine_path = os.path.join(run_dir, "machine.json")
        machine_file = read_json(machine_path) if os.path.exists(machine_path) else None
        machine_file = machine_file if isinstance(machine_file, dict) else {}
        self.machine = machine_file.get("machine") if isinstance(machine_file.get("machine"), dict) else machine_file
        self.build = machine_file.get("build") if isinstance(machine_file.get("build"), dict) else {}
        for r in self.results:  # fill the gaps from the result files
            if isinstance(r.get("machine"), dict):
                self.machine = {**r["machine"], **self.machine}
            if isinstance(r.get("build"), dict):
                self.build = {**r["build"], **self.build}
        self.run_id = next((r.get("run_id") for r in self.results if r.get("run_id")), None) or os.path.basename(
            os.path.normpath(run_dir)
        )
        self.timestamp = next((r.get("timestamp") for r in self.results if r.get("timestamp")), None)
        self.sluice_version = next((r.get("engine_version") for r in self.sluice if r.get("engine_version")), None)
        status = read_json(os.path.join(run_dir, "peer-status.json")) if os.path.exists(
            os.path.join(run_dir, "peer-status.json")
        ) else None
        self.peer = status if isinstance(status, dict) else None
        self.scenarios = sorted({r["scenario"] for r in self.results})
        self.nexmark = read_nexmark(run_dir)
        if self.timestamp is None and isinstance(machine_file.get("timestamp"), str):
            self.timestamp = machine_file["timestamp"]

    # peer state: "ok", "unavailable" or "not run"
    @property
    def peer_state(self):
        if self.peer and self.peer.get("status") == "unavailable":
            return "unavailable"
        if (self.peer and self.peer.get("status") == "ok") or self.duckdb:
            return "ok"
        return "not run"

    @property
    def peer_reason(self):
        return (self.peer or {}).get("reason") or "no reason given"

    @property
    def peer_version(self):
        v = (self.peer or {}).get("version")
        return v or next((r.get("engine_version") for r in self.duckdb if r.get("engine_version")), "?")

    def duckdb_line(self):
        state = self.peer_state
        if state == "unavailable":
            return f"DuckDB reference: unavailable: {self.peer_reason}"
        if state == "not run":
            return "DuckDB reference: not run (no peer-status.json and no DuckDB results in this run)"
        threads = sorted({threads_of(r) for r in self.duckdb if threads_of(r)})
        failed = [r for r in self.duckdb if checksum_status(r) == "fail"]
        parts = [f"{len(self.duckdb)} queries"]
        if threads:
            parts.append("threads " + ",".join(map(str, threads)))
        if failed:
            parts.append(f"{len(failed)} failed: " + ", ".join(r["scenario"] for r in failed))
        return f"DuckDB reference: {self.peer_version} ({'; '.join(parts)})"

    def machine_line(self):
        m, b = self.machine, self.build
        parts = [m.get("cpu_model") or "unknown CPU"]
        if num(m.get("cores")) is not None:
            parts.append(f"{int(m['cores'])} cores")
        if num(m.get("numa_nodes")) is not None:
            n = int(m["numa_nodes"])
            parts.append(f"{n} NUMA node{'s' if n != 1 else ''}")
        if num(m.get("memory_bytes")) is not None:
            parts.append(f"{m['memory_bytes'] / 2**30:.1f} GiB")
        if b.get("compiler"):
            parts.append(str(b["compiler"]))
        if b.get("flags"):
            parts.append(f"flags `{b['flags']}`")
        if b.get("build_type"):
            parts.append(str(b["build_type"]))
        if b.get("commit"):
            parts.append(f"commit {b['commit']}{' (dirty)' if b.get('dirty') else ''}")
        return " · ".join(parts)

    def machine_short(self):
        m = self.machine
        cores = f"{int(m['cores'])} cores" if num(m.get("cores")) is not None else "? cores"
        numa = f"{int(m['numa_nodes'])} NUMA node(s)" if num(m.get("numa_nodes")) is not None else "? NUMA nodes"
        return f"{m.get('cpu_model') or 'unknown CPU'}, {cores}, {numa}"

    def duckdb_for(self, scenario):
        return pick(self.results, scenario, "batch", engine="duckdb", threads=1)

    def ratio(self, scenario):
        """Sluice core (t1, p1) ÷ DuckDB batch (t1): (value, note)."""
        if self.peer_state == "unavailable":
            return None, "peer unavailable"
        if self.peer_state == "not run":
            return None, "peer not run"
        s = pick(self.results, scenario, "core")
        d = self.duckdb_for(scenario)
        if d is None:
            return None, "no peer result"
        if d.get("error"):
            return None, "peer error"
        sv, dv = stat(s, "records_per_second") if s else None, stat(d, "records_per_second")
        if sv is None or not dv:
            return None, "—"
        return sv / dv, None


# --- figures ---------------------------------------------------------------------------------


def message_figure(path, title, message):
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.axis("off")
    ax.set_title(title, fontsize=13, fontweight="bold")
    text = "\n\n".join(wrap(part, 90) for part in str(message).split("\n\n"))
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=11, transform=ax.transAxes)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def footer(fig, run, extra=None):
    text = f"run {run.run_id} · {run.machine_short()}"
    if extra:
        text += f"\n{extra}"
    fig.text(0.01, 0.005, text, fontsize=7.5, color="#555555", ha="left", va="bottom")


def load_anchors():
    if not os.path.exists(ANCHORS):
        return []
    data = read_json(ANCHORS)
    anchors = data.get("anchors", []) if isinstance(data, dict) else data if isinstance(data, list) else []
    out = []
    for a in anchors:
        if isinstance(a, dict) and num(a.get("records_per_second_per_core")) and a.get("applies_to"):
            out.append(a)
    return out


def anchor_color(a):
    label = str(a.get("label", "")).lower()
    if "velostream" in label:
        return ANCHOR_COLORS["velostream"]
    if "flink" in label:
        return ANCHOR_COLORS["flink"]
    return ANCHOR_COLORS["other"]


def plot_throughput(run, path):
    series = [
        ("Sluice core level (in-memory columnar batches)", COLORS["core"],
         lambda s: pick(run.results, s, "core")),
        ("Sluice codec level (JSON in, JSON out)", COLORS["codec"],
         lambda s: pick(run.results, s, "codec")),
        ("DuckDB batch (same query as SQL, 1 thread)", COLORS["duckdb"],
         lambda s: run.duckdb_for(s)),
    ]
    table = {name: {s: fn(s) for s in run.scenarios} for name, _, fn in series}
    present = [
        (name, color)
        for name, color, _ in series
        if any(r and per_core(r) for r in table[name].values())
    ]
    scenarios = [
        s
        for s in run.scenarios
        if any(table[name][s] and per_core(table[name][s]) for name, _ in present)
    ]
    if not present:
        scenarios = []
    if not scenarios:
        message_figure(path, "Throughput per core",
                       "No core, codec or DuckDB result at 1 thread and 1 source partition in this run.")
        return

    anchors = [a for a in load_anchors() if any(s in scenarios for s in a["applies_to"])]
    fig_w = max(10, 1.7 * len(scenarios) + 3)
    fig, ax = plt.subplots(figsize=(fig_w, 7.2))
    width = min(0.8 / max(1, len(present)), 0.34)
    values = []
    for i, (name, color) in enumerate(present):
        offset = (i - (len(present) - 1) / 2) * width
        for x, s in enumerate(scenarios):
            r = table[name][s]
            med = per_core(r) if r else None
            if not med:
                continue
            lo = per_core(r, "min") or med
            hi = per_core(r, "max") or med
            failed = checksum_status(r) == "fail"
            ax.bar(x + offset, med, width * 0.92, color=color, edgecolor="#333333", linewidth=0.5,
                   hatch="//" if failed else None, zorder=3)
            ax.errorbar(x + offset, med, yerr=[[max(0, med - lo)], [max(0, hi - med)]], fmt="none",
                        ecolor="#222222", elinewidth=1, capsize=3, zorder=4)
            ax.annotate(human(med), (x + offset, hi), textcoords="offset points", xytext=(0, 3), ha="center",
                        va="bottom", fontsize=7.5, zorder=6)
            values += [lo, hi]

    targets = []
    for x, s in enumerate(scenarios):
        t = next((target_of(r) for name, _ in present for r in [table[name][s]] if r and target_of(r)), None)
        if t:
            ax.plot(x, t, marker="D", markersize=9, color="#d62728", markeredgecolor="black", zorder=7,
                    linestyle="none")
            ax.annotate(human(t), (x, t), textcoords="offset points", xytext=(7, 0), ha="left", va="center",
                        fontsize=7.5, color="#b01010", zorder=8,
                        bbox=dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none", alpha=0.8))
            targets.append(t)
    values += targets

    # anchors: dashed segments over the scenarios they apply to, labelled once
    for a in anchors:
        v = num(a["records_per_second_per_core"])
        xs = sorted(scenarios.index(s) for s in a["applies_to"] if s in scenarios)
        runs_ = []
        for x in xs:
            if runs_ and x == runs_[-1][1] + 1:
                runs_[-1][1] = x
            else:
                runs_.append([x, x])
        color = anchor_color(a)
        for x0, x1 in runs_:
            ax.hlines(v, x0 - 0.46, x1 + 0.46, colors=color, linestyles="--", linewidth=1.4, zorder=5)
        x0 = runs_[0][0]
        ax.text(x0 - 0.44, v * 1.06, a.get("label", ""), color=color, fontsize=7.5, ha="left", va="bottom",
                zorder=8, bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85))
        values.append(v)

    ax.set_yscale("log")
    positive = [v for v in values if v and v > 0]
    lo, hi = min(positive) / 3, max(positive) * 6
    if hi / lo < 1000:  # at least three decades, so the axis has labelled ticks
        mid = math.sqrt(lo * hi)
        lo, hi = mid / math.sqrt(1000), mid * math.sqrt(1000)
    ax.set_ylim(lo, hi)
    ax.yaxis.set_major_formatter(log_formatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    for i, (name, _color) in enumerate(present):  # say why a bar is missing when the run says so
        offset = (i - (len(present) - 1) / 2) * width
        for x, s in enumerate(scenarios):
            r = table[name][s]
            if r is not None and r.get("error") and not per_core(r):
                ax.text(x + offset, ax.get_ylim()[0] * 1.3, "query error", rotation=90, ha="center", va="bottom", fontsize=8,
                        color="#b01010", zorder=6)
    ax.set_xticks(range(len(scenarios)))
    ax.set_xticklabels([scenario_tick(s) for s in scenarios], fontsize=9)
    ax.set_xlim(-0.6, len(scenarios) - 0.4)
    ax.set_xlabel("scenario")
    ax.set_ylabel("records per second per core (log scale)")
    ax.grid(axis="y", which="major", color="#dddddd", zorder=0)
    ax.set_title("Throughput per core: 1 thread, 1 source partition\n"
                 "bar = median of the timed runs, whisker = min–max, label = median", fontsize=12)

    handles = [Patch(facecolor=color, edgecolor="#333333", label=name) for name, color in present]
    if targets:
        handles.append(Line2D([], [], marker="D", color="#d62728", markeredgecolor="black", linestyle="none",
                              markersize=8, label="the brief's target (records/s)"))
    kinds = {anchor_color(a) for a in anchors}
    if ANCHOR_COLORS["velostream"] in kinds:
        handles.append(Line2D([], [], color=ANCHOR_COLORS["velostream"], linestyle="--",
                              label="Velostream, measured (the brief)"))
    if ANCHOR_COLORS["flink"] in kinds:
        handles.append(Line2D([], [], color=ANCHOR_COLORS["flink"], linestyle="--",
                              label="Flink Nexmark, published per core"))
    if ANCHOR_COLORS["other"] in kinds:
        handles.append(Line2D([], [], color=ANCHOR_COLORS["other"], linestyle="--", label="published anchor"))
    if any(checksum_status(table[name][s]) == "fail" for name, _ in present for s in scenarios if table[name][s]):
        handles.append(Patch(facecolor="white", edgecolor="#333333", hatch="//", label="checksum failed"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8.5,
              frameon=False)
    notes = []
    if anchors:
        notes.append("Anchors (reports/anchors.json) are published figures for other systems, queries and "
                     "hardware: context for the order of magnitude, not like-for-like.")
    if run.peer_state != "ok":
        notes.append(run.duckdb_line()[:160])
    footer(fig, run, "\n".join(notes) or None)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_ratio(run, path):
    title = "Sluice core level ÷ DuckDB batch, 1 thread each"
    if run.peer_state == "unavailable":
        message_figure(path, title, f"The DuckDB reference engine was unavailable in this run:\n\n"
                                    f"{run.peer_reason}\n\nNo ratio can be drawn.")
        return
    if run.peer_state == "not run":
        message_figure(path, title, "The DuckDB reference engine did not run in this run "
                                    "(no peer-status.json, no DuckDB results).")
        return
    rows = [(s, run.ratio(s)[0]) for s in run.scenarios]
    rows = [(s, v) for s, v in rows if v]
    if not rows:
        message_figure(path, title, "No scenario has both a Sluice core-level result (1 thread, 1 source "
                                    "partition) and a DuckDB result in this run.")
        return
    fig, ax = plt.subplots(figsize=(max(9, 1.5 * len(rows) + 3), 5.8))
    xs = range(len(rows))
    vals = [v for _, v in rows]
    colors = ["#2ca02c" if v >= 1 else "#ff7f0e" for v in vals]
    ax.bar(xs, [v - 1 for v in vals], bottom=1, width=0.6, color=colors, edgecolor="#333333", linewidth=0.5,
           zorder=3)
    ax.set_yscale("log")
    lo, hi = min(vals + [1]), max(vals + [1])
    ax.set_ylim(lo / 2.2, hi * 2.2)
    for x, v in zip(xs, vals):
        ax.text(x, v * (1.08 if v >= 1 else 1 / 1.08), ratio_text(v), ha="center",
                va="bottom" if v >= 1 else "top", fontsize=10, fontweight="bold", zorder=5)
    ax.axhline(1.0, color="black", linewidth=1.2, zorder=4, label="1.0 = same speed")
    ax.legend(handles=[Patch(facecolor="#2ca02c", edgecolor="#333333", label="Sluice faster"),
                       Patch(facecolor="#ff7f0e", edgecolor="#333333", label="DuckDB faster"),
                       Line2D([], [], color="black", linewidth=1.2, label="1.0 = same speed")],
              fontsize=8.5, loc="best")
    ax.yaxis.set_major_locator(FixedLocator([m * 10.0**e for e in range(-4, 5) for m in (1, 2, 5)]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}×"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(list(xs))
    ax.set_xticklabels([scenario_tick(s) for s, _ in rows], fontsize=9)
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_xlabel("scenario")
    ax.set_ylabel("Sluice rec/s ÷ DuckDB rec/s (log scale)\n> 1: Sluice faster, < 1: DuckDB faster")
    ax.grid(axis="y", color="#dddddd", zorder=0)
    ax.set_title(f"{title}\n(same records, same machine; DuckDB {run.peer_version} computes the final "
                 "result once, Sluice streams it)", fontsize=11.5)
    footer(fig, run)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_scaling(run, path):
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 6))
    cmap = plt.get_cmap("tab10")

    # left: rec/s against workers, core level. One worker: the fused single-threaded pipeline on
    # 1 source partition; N workers: the parallel runtime on N partitions (one read by each).
    lines = 0
    for s in run.scenarios:
        pts = {}
        keyed_stage = ""  # how several workers feed the keyed stage: "forward" or "exchange"
        for r in run.sluice:
            t = threads_of(r)
            if r.get("scenario") == s and r.get("level") == "core" and t and partitions_of(r) == max(t, 1):
                v = stat(r, "records_per_second")
                if v and (t not in pts or placement_of(r) == "default"):
                    pts[t] = v
                keyed_stage = r.get("keyed_stage") or keyed_stage
        if len(pts) < 2:
            continue
        color = cmap(lines % 10)
        ts = sorted(pts)
        label = s + {"forward": " (no exchange)", "exchange": " (keyed exchange)"}.get(keyed_stage, "")
        left.plot(ts, [pts[t] for t in ts], marker="o", color=color, linewidth=2, label=label, zorder=3)
        t0 = ts[0]
        left.plot([t0, ts[-1]], [pts[t0], pts[t0] * ts[-1] / t0], linestyle="--", color=color, linewidth=1,
                  alpha=0.8, zorder=2)
        lines += 1
    if lines:
        left.set_yscale("log")
        left.yaxis.set_major_formatter(log_formatter())
        left.yaxis.set_minor_formatter(FuncFormatter(lambda v, _p: ""))
        all_t = sorted({threads_of(r) for r in run.sluice if threads_of(r)})
        left.set_xticks(all_t)
        left.set_xlabel("worker threads (= cores used)")
        left.set_ylabel("records per second, all threads together (log scale)")
        handles, labels = left.get_legend_handles_labels()
        handles.append(Line2D([], [], color="grey", linestyle="--", label="ideal linear from the first point"))
        left.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2,
                    frameon=False)
        left.grid(color="#dddddd", zorder=0)
    else:
        left.axis("off")
        left.text(0.5, 0.5, "No scenario ran at more than one thread count\n(core level).",
                  ha="center", va="center", fontsize=11, transform=left.transAxes)
    left.set_title("Worker scaling, core level (N workers read N source partitions)", fontsize=11)

    # right: S4 against source partitions
    by_threads = {}
    target = None
    for r in run.sluice:
        if r.get("scenario") == S4 and r.get("level") == "core":
            p, v, t = partitions_of(r), stat(r, "records_per_second"), threads_of(r)
            if p and v and t:
                by_threads.setdefault(t, {})
                if p not in by_threads[t] or placement_of(r) == "default":
                    by_threads[t][p] = v
                target = target or target_of(r)
    if by_threads:
        all_p = set()
        peak = 0
        for i, t in enumerate(sorted(by_threads)):
            pts = by_threads[t]
            ps = sorted(pts)
            all_p.update(ps)
            peak = max(peak, max(pts.values()))
            right.plot(ps, [pts[p] for p in ps], marker="o", linewidth=2, color=cmap(i),
                       label=f"{t} thread{'s' if t != 1 else ''}", zorder=3)
            for p in ps:
                right.annotate(human(pts[p]), (p, pts[p]), textcoords="offset points", xytext=(0, 7),
                               ha="center", fontsize=8)
        right.set_xscale("log", base=2)
        right.set_xticks(sorted(all_p))
        right.set_xticklabels([str(p) for p in sorted(all_p)])
        right.minorticks_off()
        if len(all_p) == 1:
            p = next(iter(all_p))
            right.set_xlim(p / 2, p * 2)
        if target:
            right.axhline(target, color="#d62728", linestyle=":", linewidth=1.5,
                          label=f"the brief's target, {human(target)} rec/s")
            peak = max(peak, target)
        right.set_ylim(0, peak * 1.2)
        right.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: human(v) if v else "0"))
        right.set_xlabel("source partitions (log2 scale)")
        right.set_ylabel("records per second, all threads together")
        right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
        right.grid(color="#dddddd", zorder=0)
    else:
        right.axis("off")
        right.text(0.5, 0.5, f"No {S4} core-level results in this run.", ha="center", va="center",
                   fontsize=11, transform=right.transAxes)
    right.set_title(f"{S4}: the 3a query over N source partitions (core level)", fontsize=11)

    fig.suptitle(f"Scaling · {run.machine_short()}", fontsize=12.5)
    footer(fig, run)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_latency(run, path):
    rows = [r for r in run.sluice if r.get("level") == "latency" and isinstance(r.get("latency_us"), dict)]
    if not rows:
        message_figure(path, "Latency (ingest → emit)", "No latency-level results in this run.")
        return
    pcts = [("p50", "p50", "#9ecae1"), ("p99", "p99", "#3182bd"), ("p999", "p99.9", "#08519c")]
    fig, ax = plt.subplots(figsize=(max(8, 2.0 * len(rows) + 3), 6))
    width = 0.26
    values = []
    for i, (key, label, color) in enumerate(pcts):
        for x, r in enumerate(rows):
            v = latency_of(r, key)
            if not v:
                continue
            ax.bar(x + (i - 1) * width, v, width * 0.92, color=color, edgecolor="#333333", linewidth=0.5,
                   label=label if x == 0 or not any(latency_of(q, key) for q in rows[:x]) else None, zorder=3)
            ax.annotate(human_us(v), (x + (i - 1) * width, v), textcoords="offset points", xytext=(0, 3),
                        ha="center", va="bottom", fontsize=7.5, rotation=90 if len(rows) > 4 else 0, zorder=5,
                        bbox=dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none", alpha=0.8))
            values.append(v)
    ax.axhline(1000, color="#d62728", linestyle="--", linewidth=1.2, zorder=4)
    ax.text(len(rows) - 0.45, 1000 * 1.05, "1 ms", color="#d62728", ha="right", va="bottom", fontsize=9)
    ax.set_yscale("log")
    values.append(1000)
    ax.set_ylim(min(values) / 3, max(values) * 8)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: human_us(v)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ticks = []
    for r in rows:
        rate = latency_of(r, "rate")
        t = threads_of(r)
        extra = f", {t} thr" if t and t != 1 else ""
        rate_text = f"@ {human(rate)} rec/s" if rate else "(rate not recorded)"
        ticks.append(f"{scenario_tick(r['scenario'])}\n{rate_text}{extra}")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(ticks, fontsize=9)
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_xlabel("scenario @ offered rate")
    ax.set_ylabel("ingest → emit latency, microseconds (log scale)")
    ax.grid(axis="y", color="#dddddd", zorder=0)
    ax.legend(title="percentile", fontsize=9, loc="upper left")
    ax.set_title("Latency at a paced source rate: p50, p99, p99.9 of each record's ingest → emit time",
                 fontsize=11.5)
    footer(fig, run)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_nexmark(run, path):
    title = "Nexmark in Flink's SQL text: events/s per core on one core, against Flink's published figure"
    data = run.nexmark
    if not data:
        message_figure(path, title, "No nexmark-level results in this run (nexmark.json).")
        return
    queries = data["queries"]
    ran = [q for q in queries if q.get("outcome") == "ran"]
    if not ran:
        message_figure(path, title, "No Nexmark query ran in this run: " + "; ".join(
            f"{q['query']} {q.get('outcome')}" for q in queries))
        return
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(10, 0.62 * len(queries) + 3), 10), sharex=True)
    xs = range(len(queries))
    width = 0.38
    modes = [("file", "Sluice: JSON Lines files decoded in the run → query → blackhole", "#1f77b4"),
             ("memory", "Sluice: decoded batches from memory → query → blackhole", "#8fbbe0")]
    values = []
    for i, (mode, label, color) in enumerate(modes):
        xs_mode = [x for x, q in zip(xs, queries) if nexmark_rate(q, mode)]
        ys = [nexmark_rate(q, mode) for q in queries if nexmark_rate(q, mode)]
        top.bar([x + (i - 0.5) * width for x in xs_mode], ys, width * 0.92, color=color, edgecolor="#333333",
                linewidth=0.5, label=label, zorder=3)
        values += ys
        ratios = [nexmark_ratio(q, mode) for q in queries]
        xr = [x for x, r in zip(xs, ratios) if r]
        bottom.bar([x + (i - 0.5) * width for x in xr], [r for r in ratios if r], width * 0.92, color=color,
                   edgecolor="#333333", linewidth=0.5, label=label, zorder=3)
        for x, r in zip(xr, [r for r in ratios if r]):
            bottom.annotate(f"{r:,.0f}x" if r >= 10 else f"{r:.1f}x", (x + (i - 0.5) * width, r),
                            textcoords="offset points", xytext=(0, 2), ha="center", va="bottom", fontsize=7,
                            rotation=90, zorder=5)
    flink = [(x, nexmark_flink(q)) for x, q in zip(xs, queries) if nexmark_flink(q)]
    if flink:
        top.scatter([x for x, _ in flink], [v for _, v in flink], marker="_", s=500, linewidths=2.5,
                    color="#8c510a", label="Flink 1.13 published (events/s per core)", zorder=4)
        top.scatter([x for x, _ in flink], [NEXMARK_GOAL * v for _, v in flink], marker="_", s=500,
                    linewidths=1.5, color="#d62728", label=f"{NEXMARK_GOAL}x Flink (the aim)", zorder=4)
        values += [v for _, v in flink] + [NEXMARK_GOAL * v for _, v in flink]
    top.set_yscale("log")
    top.set_ylim(min(values) / 3, max(values) * 3)
    top.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: human(v)))
    top.set_ylabel("events per second per core (log scale)")
    top.grid(axis="y", color="#dddddd", zorder=0)
    top.legend(fontsize=8, loc="upper right")
    top.set_title(title, fontsize=11.5)
    bottom.axhline(NEXMARK_GOAL, color="#d62728", linestyle="--", linewidth=1.2, zorder=4)
    bottom.axhline(1, color="#555555", linestyle=":", linewidth=1, zorder=4)
    bottom.text(len(queries) - 0.5, NEXMARK_GOAL * 1.08, f"{NEXMARK_GOAL}x", color="#d62728", ha="right",
                va="bottom", fontsize=9)
    bottom.set_yscale("log")
    ratios = [r for q in queries for r in (nexmark_ratio(q, "file"), nexmark_ratio(q, "memory")) if r]
    bottom.set_ylim(min(ratios + [1]) / 2, max(ratios + [NEXMARK_GOAL]) * 6)
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}x"))
    bottom.set_ylabel("Sluice ÷ Flink, per core (log scale)")
    bottom.grid(axis="y", color="#dddddd", zorder=0)
    labels = []
    for q in queries:
        outcome = q.get("outcome")
        if outcome == "ran":
            labels.append(q["query"] if nexmark_flink(q) else f"{q['query']}\n(no Flink figure)")
        else:
            labels.append(f"{q['query']}\n{'refused' if outcome == 'refused' else 'FAILED'}")
    bottom.set_xticks(list(xs))
    bottom.set_xticklabels(labels, fontsize=8.5)
    for tick, q in zip(bottom.get_xticklabels(), queries):
        if q.get("outcome") == "refused":
            tick.set_color("#999999")
        elif q.get("outcome") != "ran":
            tick.set_color("#d62728")
    bottom.set_xlim(-0.6, len(queries) - 0.4)
    events = int(num(data.get("generated_events")) or 0)
    footer(fig, run, f"{events:,} generated events; parallelism 1; Flink: {data.get('flink', {}).get('source', '?')}"
                     " (8 TaskManagers, parallelism 8; other hardware)")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- tables ----------------------------------------------------------------------------------


def level_text(r):
    lvl = r.get("level") or "?"
    return lvl if placement_of(r) == "default" else f"{lvl} ({placement_of(r)})"


def verdict_rows(run):
    rows = []
    for r in run.sluice:
        level = r.get("level")
        if level not in ("core", "codec", "e2e", "latency"):
            continue
        rate = per_core(r)
        target = target_of(r)
        goal = num(r.get("goal_records_per_second_per_core"))
        status = checksum_status(r)
        passed = status == "pass"
        if level == "core" and threads_of(r) == 1 and partitions_of(r) == 1:
            value, note = run.ratio(r["scenario"])
            ratio = ratio_text(value) if value else note
        else:
            ratio = "n/a"
        if level == "latency":
            target_cell = "n/a (paced)"
            ok = passed
        else:
            target_cell = human(target) if target else "—"
            ok = passed and (not target or (rate is not None and rate >= target))
        # A state bound counts state besides the keys' own string bytes.
        state_target, state = state_target_of(r), state_per_key(r)
        if state_target and level != "latency":
            state_cell = f"{state:,.1f} (≤ {state_target:g})" if state is not None else f"— (≤ {state_target:g})"
            ok = ok and state is not None and state <= state_target
        else:
            state_cell = "—"
        rows.append({
            "scenario": r["scenario"],
            "level": level_text(r),
            "threads": str(threads_of(r) or "?"),
            "partitions": str(partitions_of(r)),
            "per_core": human(rate),
            "p99": human_us(latency_of(r, "p99")) if level == "latency" else "—",
            "target": target_cell,
            "goal": human(goal) if goal else "—",
            "ratio": ratio,
            "state": state_cell,
            "flink": "—",
            "checksum": {"pass": "pass", "fail": "fail"}.get(status, status or "—"),
            "verdict": "PASS" if ok else "FAIL",
        })
    rows += nexmark_verdict_rows(run)
    return rows


def nexmark_verdict_rows(run):
    """One row per Nexmark query: the file figure (JSON decoded in the run) against Flink's; PASS at
    NEXMARK_GOAL x Flink or more. The level does not check rows against an oracle (the oracle test
    engine/tests/nexmark_oracle_test.cc does); its runs must agree with each other."""
    rows = []
    for q in (run.nexmark or {}).get("queries", []):
        outcome = q.get("outcome")
        flink = nexmark_flink(q)
        rate, ratio = nexmark_rate(q, "file"), nexmark_ratio(q, "file")
        if outcome == "ran":
            verdict = "PASS" if ratio is not None and ratio >= NEXMARK_GOAL else (
                "FAIL" if ratio is not None else "no figure")
            checksum = "runs agree"
        elif outcome == "refused":
            verdict, checksum = "SKIPPED", "refused at bind"
        else:
            verdict, checksum = "FAIL", "run failed"
        rows.append({
            "scenario": f"nexmark {q['query']}",
            "level": "nexmark (file)",
            "threads": "1",
            "partitions": "—",
            "per_core": human(rate) if rate else "—",
            "p99": "—",
            "target": "—",
            "goal": human(NEXMARK_GOAL * flink) if flink else "no Flink figure",
            "ratio": "n/a",
            "flink": (f"{ratio:,.1f}x" if ratio is not None else "—"),
            "state": "—",
            "checksum": checksum,
            "verdict": verdict,
        })
    return rows


VERDICT_COLUMNS = [
    ("scenario", "scenario"), ("level", "level"), ("threads", "threads"), ("partitions", "partitions"),
    ("per_core", "rec/s per core"), ("p99", "p99 latency"), ("target", "brief target"),
    ("goal", "goal per core"), ("ratio", "Sluice ÷ DuckDB"), ("flink", "Sluice ÷ Flink"),
    ("state", "state B/key (bound)"),
    ("checksum", "checksum"), ("verdict", "verdict"),
]
RIGHT = {"threads", "partitions", "per_core", "p99", "target", "goal", "ratio", "flink", "state"}


def text_table(columns, rows):
    widths = {k: max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in columns}
    def line(cells):
        return "  ".join(cells[k].rjust(widths[k]) if k in RIGHT else cells[k].ljust(widths[k])
                         for k, _ in columns).rstrip()
    out = [line({k: h for k, h in columns}), "  ".join("-" * widths[k] for k, _ in columns)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def md_table(headers, rows, right=()):
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|"]
    for row in rows:
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(out)


def measurement_rows(run):
    rows = []
    for r in run.results:
        rss = num(r.get("peak_rss_bytes"))
        bpk = state_per_key(r)  # None: stateless, or state not measured
        spk = state_per_key(r, "string_bytes_per_key")
        lo, hi = stat(r, "records_per_second", "min"), stat(r, "records_per_second", "max")
        status = checksum_status(r) or "—"
        if r.get("error"):
            status += " (error)"
        rows.append([
            r.get("engine", "sluice"), r["scenario"], level_text(r), threads_of(r) or "?", partitions_of(r),
            human(num(r.get("records"))), human(stat(r, "records_per_second")),
            human(per_core(r)),
            f"{human(lo)}–{human(hi)}" if lo is not None and hi is not None else "—",
            f"{int(r['output_rows']):,}" if num(r.get("output_rows")) is not None else "—",
            f"{rss / 2**20:,.0f}" if rss is not None else "—",
            f"{bpk:,.1f}" if bpk is not None else "—",
            f"{spk:,.1f}" if spk is not None else "—",
            status,
        ])
    return rows


def latency_rows(run):
    out = []
    for r in run.sluice:
        if r.get("level") == "latency" and isinstance(r.get("latency_us"), dict):
            low, high = latency_of(r, "p99_min"), latency_of(r, "p99_max")
            spread = f"{human_us(low)}–{human_us(high)}" if low is not None and high is not None else "—"
            out.append([r["scenario"], threads_of(r) or "?", human(latency_of(r, "rate")),
                        human_us(latency_of(r, "p50")), human_us(latency_of(r, "p99")),
                        human_us(latency_of(r, "p999")), human_us(latency_of(r, "max")), spread,
                        str(r.get("runs", "?"))])
    return out


def checkpoint_rows(run):
    """The checkpoint level: one row per checkpointed measurement, against the runs without."""
    out = []
    for r in run.sluice:
        c = r.get("checkpoint")
        if r.get("level") != "checkpoint" or not isinstance(c, dict) or not num(c.get("interval_ms")):
            continue
        none = next((x for x in run.sluice if x.get("level") == "checkpoint" and x.get("scenario") == r["scenario"]
                     and isinstance(x.get("checkpoint"), dict) and not num(x["checkpoint"].get("interval_ms"))),
                    None)
        pause = num(c.get("pause_seconds_per_checkpoint"))
        ratio = num(c.get("throughput_ratio_vs_none"))
        loss = num(c.get("projected_loss_at_1s"))
        state = num(c.get("state_bytes"))
        out.append([r["scenario"], f"{int(c['interval_ms'])} ms",
                    human(per_core(none)) if none else "—", human(per_core(r)),
                    f"{ratio:.3f}" if ratio is not None else "—",
                    f"{num(c.get('checkpoints_per_run')):g}" if num(c.get("checkpoints_per_run")) is not None else "—",
                    f"{pause * 1000:.2f}" if pause is not None else "—",
                    f"{state / 2**20:,.2f}" if state is not None else "—",
                    f"{loss * 100:.2f}%" if loss is not None else "—",
                    "pass" if loss is not None and loss <= 0.10 and checksum_status(r) == "pass" else "FAIL"])
    return out


def metrics_rows(run):
    """The metrics level: one row per run with metrics, against the runs without."""
    out = []
    for r in run.sluice:
        c = r.get("metrics")
        if r.get("level") != "metrics" or not isinstance(c, dict) or not c.get("enabled"):
            continue
        none = next((x for x in run.sluice if x.get("level") == "metrics" and x.get("scenario") == r["scenario"]
                     and isinstance(x.get("metrics"), dict) and not x["metrics"].get("enabled")), None)
        ratio = num(c.get("throughput_ratio_vs_none"))
        per_publish = num(c.get("seconds_per_publish"))
        loss = num(c.get("projected_loss_at_1s"))
        out.append([r["scenario"], human(per_core(none)) if none else "—", human(per_core(r)),
                    f"{ratio:.3f}" if ratio is not None else "—",
                    f"{int(num(c.get('publish_interval_ms')) or 0)} ms",
                    f"{num(c.get('publishes_per_run')):g}" if num(c.get("publishes_per_run")) is not None else "—",
                    f"{num(c.get('scrapes_per_run')):g}" if num(c.get("scrapes_per_run")) is not None else "—",
                    f"{per_publish * 1e6:.1f}" if per_publish is not None else "—",
                    f"{loss * 100:.4f}%" if loss is not None else "—",
                    "pass" if loss is not None and loss <= 0.02 and checksum_status(r) == "pass" else "FAIL"])
    return out


def decimal_rows(run):
    """What an exact DECIMAL(12, 4) price costs: s2_group_by_decimal against s2_group_by, same run."""
    out = []
    for level in ("core", "codec"):
        double = pick(run.sluice, "s2_group_by", level)
        decimal = pick(run.sluice, "s2_group_by_decimal", level)
        if double is None or decimal is None:
            continue
        a, b = per_core(double), per_core(decimal)
        ratio = b / a if a and b else None
        out.append([level, human(a), human(b), f"{ratio:.2f}×" if ratio is not None else "—",
                    checksum_status(decimal)])
    return out


def state_backend_lines(run):
    """The state level (state-backends.json): the in-memory and RocksDB runs of one GROUP BY."""
    data = read_json(os.path.join(run.dir, "state-backends.json")) if os.path.exists(
        os.path.join(run.dir, "state-backends.json")) else None
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        return []
    runs = {r.get("backend"): r for r in data["runs"] if isinstance(r, dict)}
    rows = []
    for r in data["runs"]:
        cap = int(num(r.get("memory_cap_bytes")) or 0)
        peak = num(r.get("peak_rss_bytes")) or 0
        cgroup_peak = num(r.get("cgroup_peak_bytes")) or 0
        rows.append([r.get("backend", "?"), f"{cap / 2**20:,.0f} MiB" if cap else "none",
                     human(num(r.get("records_per_second"))) if not r.get("error") else "—",
                     f"{num(r.get('wall_seconds')) or 0:.1f}", f"{peak / 2**20:,.0f}",
                     f"{cgroup_peak / 2**20:,.0f}" if cgroup_peak else "—",
                     "pass" if r.get("check_ok") else "FAIL: " + str(r.get("error") or r.get("check"))])
    lines = ["### State backends", "",
             f"One GROUP BY (COUNT, SUM, MIN, MAX per key, EMIT FINAL) over {int(num(data.get('keys')) or 0):,} keys "
             f"and {int(num(data.get('records')) or 0):,} records, run by `sluice run` at parallelism 1 with "
             "each state backend; the RocksDB run inside a memory cgroup limited as shown. Rates are the "
             "command's records in over its elapsed time (JSON decoding included); peak RSS is the command's "
             "own (VmHWM, from its --summary-json), the cgroup's peak includes the page cache it used. Every output row is checked against a "
             "closed form of the generated records (each key once, with its four aggregates).", "",
             md_table(["backend", "memory cap", "rec/s", "seconds", "peak RSS MiB", "cgroup peak MiB", "check"],
                      rows, right={2, 3, 4, 5}), ""]
    memory, rocksdb = runs.get("memory"), runs.get("rocksdb")
    if memory and rocksdb and not memory.get("error") and not rocksdb.get("error"):
        ratio = (num(rocksdb.get("records_per_second")) or 0) / max(num(memory.get("records_per_second")) or 1, 1)
        cap = num(rocksdb.get("memory_cap_bytes")) or 0
        peak = num(memory.get("peak_rss_bytes")) or 0
        text = f"RocksDB's throughput is {ratio:.2f}x the in-memory backend's."
        if cap and peak:
            text += (f" Its memory cap is {cap / peak:.0%} of the in-memory run's peak RSS"
                     + (" (well below it)." if cap <= peak / 2 else " (not below it at this scale)."))
        lines += [text, ""]
    return lines


def nexmark_lines(run):
    """The nexmark level (nexmark.json): every query of scenarios/nexmark/flink/, with Flink's figure."""
    data = run.nexmark
    if not data:
        return []
    flink = data.get("flink") if isinstance(data.get("flink"), dict) else {}
    events = int(num(data.get("generated_events")) or 0)
    rate = num(data.get("event_time_events_per_second")) or 0
    runs = int(num(data.get("runs")) or 0)
    lines = ["## Nexmark (Flink's SQL text) against Flink's published figures", "",
             f"Every query of `scenarios/nexmark/flink/` that binds, on {events:,} generated events "
             f"({human(rate)} events per second of event time, as Nexmark's published runs), at parallelism 1 "
             f"on one pinned core, every sink a blackhole; the median of {runs} timed runs. *file*: the job "
             "as written, its sources reading their JSON Lines files (page cache) and decoding them in the "
             "run; *memory*: the same rows decoded before the run, handed over as batches (the operators "
             "alone). Events are the records the query's sources read (a query over bids alone counts "
             "bids alone; Flink's table counts every generated event). The verdict compares the *file* "
             f"figure with {NEXMARK_GOAL}x Flink's per-core figure. Flink's: "
             f"{flink.get('source', '?')}; Flink {flink.get('flink_version', '?')}; "
             f"{flink.get('machines', '?')}. Other hardware, a distributed setup at parallelism 8 and "
             "another source: a reference for the order of magnitude, not a like-for-like comparison.", "",
             "![Nexmark per core against Flink](nexmark.png)", ""]
    rows = []
    for q in data["queries"]:
        f = nexmark_flink(q)
        if q.get("outcome") == "ran":
            def cell(mode):
                med, lo, hi = (nexmark_rate(q, mode, k) for k in ("median", "min", "max"))
                return f"{human(med)} ({human(lo)}–{human(hi)})" if med else "—"
            def ratio_cell(mode):
                r = nexmark_ratio(q, mode)
                return f"{r:,.1f}x" if r is not None else "—"
            rows.append([q["query"], "ran", f"{int(num(q.get('events')) or 0):,}",
                         f"{int(num(q.get('output_rows')) or 0):,}", cell("file"), ratio_cell("file"),
                         cell("memory"), ratio_cell("memory"), human(f) if f else "none published"])
        else:
            rows.append([q["query"], q.get("outcome", "?"), "—", "—", "—", "—", "—", "—",
                         human(f) if f else "none published"])
    lines += [md_table(["query", "outcome", "events", "rows out", "file: events/s per core (min–max)",
                        "÷ Flink", "memory: events/s per core (min–max)", "÷ Flink", "Flink per core"],
                       rows, right={2, 3, 4, 5, 6, 7, 8}), ""]
    not_run = [q for q in data["queries"] if q.get("outcome") != "ran"]
    if not_run:
        lines += ["Not measured:", ""]
        for q in not_run:
            what = "refused at bind" if q.get("outcome") == "refused" else "FAILED"
            message = str(q.get("message") or "").splitlines()[0] if q.get("message") else ""
            missing = "" if nexmark_flink(q) else f" (Flink: {q.get('flink_missing') or 'no published figure'})"
            lines.append(f"- {q['query']}: {what}: `{message}`{missing}")
        lines.append("")
    return lines


def write_summary(run, out_dir, verdict_text):
    lines = [f"# Sluice benchmark report: {run.run_id}", ""]
    when = f" at {run.timestamp}" if run.timestamp else ""
    version = f"Sluice {run.sluice_version}" if run.sluice_version else "Sluice"
    lines += [f"{version}, measured{when} on: {run.machine_line()}", ""]
    lines += [
        "## How to read this",
        "",
        "Every figure is input records per second of wall time, the median of the timed runs; "
        "\"per core\" divides by the worker threads. Core level feeds pre-built columnar batches from "
        "memory (the engine alone), codec level adds JSON parsing and encoding, latency level paces the "
        "source and measures each record's ingest → emit time. A verdict is PASS when the output matched "
        "the SQLite oracle, the per-core median reaches the brief's target (when the brief has one) and "
        "state bytes per key, besides the keys' own string bytes, stay within the scenario's bound (when "
        "it has one); "
        "DuckDB runs the same query as a batch and is a yardstick, not a pass/fail criterion.",
        "",
        "## Verdict",
        "",
        "```",
        verdict_text,
        "```",
        "",
        "Latency rows run at a paced rate, so their verdict is the checksum alone. \"goal per core\" is "
        "the lab's own per-core goal; it does not decide the verdict.",
        "",
        "## Plots",
        "",
        "![Throughput per core by scenario and level, with the brief's targets and published anchors]"
        "(throughput.png)",
        "",
        "![Sluice core level divided by DuckDB, per scenario](duckdb_ratio.png)",
        "",
        "![Scaling with threads and with source partitions](scaling.png)",
        "",
        "![Latency percentiles at the offered rate](latency.png)",
        "",
        "## Every measurement",
        "",
        md_table(["engine", "scenario", "level", "threads", "partitions", "records", "median rec/s",
                  "per core", "min–max rec/s", "output rows", "peak RSS MiB", "state B/key",
                  "key string B/key", "checksum"],
                 measurement_rows(run), right={3, 4, 5, 6, 7, 8, 9, 10, 11, 12}),
        "",
    ]
    lat = latency_rows(run)
    if lat:
        lines += ["### Latency", "",
                  "Each row is the timed run with the median p99; \"p99 over runs\" is the range of the "
                  "runs' p99, which shows how much a stall of the machine moved one run.", "",
                  md_table(["scenario", "threads", "offered rec/s", "p50", "p99", "p99.9", "max", "p99 over runs",
                            "runs"], lat, right={1, 2, 3, 4, 5, 6, 8}), ""]
    ckpt = checkpoint_rows(run)
    if ckpt:
        lines += ["### Checkpoint cost", "",
                  "The core level on one thread, alternately without checkpoints and with durable ones "
                  "(fsynced files) at the interval shown. The pause is how long the job stopped reading "
                  "for one checkpoint (its snapshots taken and handed to the writer thread); the projected "
                  "loss is that pause over a 1 s interval, which the lab bounds at 10%. The measured ratio "
                  "at a 20 ms interval also shows the writer thread and fsync competing for the cores.", "",
                  md_table(["scenario", "interval", "rec/s per core without", "with", "ratio", "checkpoints per run",
                            "pause ms", "state MiB", "projected loss at 1 s", "≤ 10%"], ckpt,
                           right={2, 3, 4, 5, 6, 7, 8}), ""]
    met = metrics_rows(run)
    if met:
        lines += ["### Metrics cost", "",
                  "The core level on one thread, alternately without metrics and with what `sluice run "
                  "--metrics-port` adds, a thousand times as often: the job's counters published to a "
                  "/metrics endpoint every millisecond (not every second) from the run's own thread, and "
                  "the endpoint scraped over HTTP a hundred times a second from another. The ratio is "
                  "that stress's; the runs' extra time over their publishes (all of it charged to "
                  "publishing) gives the cost of one, and the projected loss is that once a second, as "
                  "`sluice run --metrics-port` publishes, which the lab bounds at 2%.", "",
                  md_table(["scenario", "rec/s per core without", "with", "ratio", "published every",
                            "publishes per run", "scrapes per run", "µs per publish", "projected loss at 1 s",
                            "≤ 2%"], met, right={1, 2, 3, 5, 6, 7, 8}), ""]
    dec = decimal_rows(run)
    if dec:
        lines += ["### DECIMAL cost", "",
                  "Scenario 2 with the trades' price an exact `DECIMAL(12, 4)` (scenarios/s2_group_by_decimal: "
                  "decoded from its text exactly, summed and compared as unscaled integers) against the same "
                  "query over a `DOUBLE` price, one thread, in this run.", "",
                  md_table(["level", "DOUBLE rec/s per core", "DECIMAL rec/s per core", "DECIMAL / DOUBLE",
                            "check"], dec, right={1, 2, 3}), ""]
    lines += state_backend_lines(run)
    lines += nexmark_lines(run)
    lines += ["## Reference engine (DuckDB)", "", run.duckdb_line(), ""]
    if run.peer_state == "ok":
        lines += ["DuckDB ran each scenario's `peer.sql` on the same records, loaded untimed into an in-memory "
                  "table, timing `CREATE TEMP TABLE … AS <query>` at one thread "
                  "(harness/peers/duckdb/README.md). Its checksum compares the row count only.", ""]
        errors = [r for r in run.duckdb if r.get("error")]
        for r in errors:
            lines.append(f"- {r['scenario']}: error: {str(r['error']).splitlines()[0]}")
        if errors:
            lines.append("")
    anchors = load_anchors()
    if anchors:
        lines += ["## Published anchors", "",
                  md_table(["anchor", "rec/s per core", "applies to", "source"],
                           [[a.get("label", ""), human(a["records_per_second_per_core"]),
                             ", ".join(a["applies_to"]), a.get("source", "")] for a in anchors],
                           right={1}), ""]
    lines += [f"Source: `{os.path.relpath(run.dir, REPO) if run.dir.startswith(REPO) else run.dir}`, "
              f"{len(run.results)} result files.", ""]
    with open(os.path.join(out_dir, "summary.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


# --- main ------------------------------------------------------------------------------------


def main(argv):
    if len(argv) > 3 or (len(argv) > 1 and argv[1] in ("-h", "--help")):
        print(__doc__.strip())
        return 0 if len(argv) > 1 and argv[1] in ("-h", "--help") else 2
    results_root = os.path.join(REPO, "results")
    if len(argv) > 1:
        run_dir = argv[1]
        if not os.path.isdir(run_dir):
            warn(f"{run_dir} is not a directory")
            return 1
    else:
        run_dir = newest_run_dir(results_root)
        if run_dir is None:
            warn(f"no benchmark results under {results_root}/ (run `make bench` first)")
            return 1
    out_dir = argv[2] if len(argv) > 2 else os.path.join(REPO, "reports", "latest")

    results = result_files(run_dir)
    if not results and not has_level_files(run_dir):
        warn(f"no \"{SCHEMA}\" result files in {run_dir}")
        return 1
    run = Run(run_dir, results)

    os.makedirs(out_dir, exist_ok=True)
    for old in glob.glob(os.path.join(out_dir, "*.png")) + glob.glob(os.path.join(out_dir, "*.md")):
        os.remove(old)

    plot_throughput(run, os.path.join(out_dir, "throughput.png"))
    plot_ratio(run, os.path.join(out_dir, "duckdb_ratio.png"))
    plot_scaling(run, os.path.join(out_dir, "scaling.png"))
    plot_latency(run, os.path.join(out_dir, "latency.png"))
    plot_nexmark(run, os.path.join(out_dir, "nexmark.png"))

    rows = verdict_rows(run)
    verdict_text = (text_table(VERDICT_COLUMNS, rows) if rows else "(no Sluice core, codec or latency results)")
    verdict_text += "\n" + run.duckdb_line()
    write_summary(run, out_dir, verdict_text)

    print(f"Sluice benchmark {run.run_id} · {run.machine_short()}")
    print(verdict_text)
    print(f"\nwrote {', '.join(PLOTS + ['summary.md'])} to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
