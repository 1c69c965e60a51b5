"""``python -m natakanu_peer.bench``: run the benchmarks, print a Markdown table, write JSON.

Every row shows the measured figure, the reference measured in the same run where there is
one, their ratio, the target, and whether the target is met.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass
class Row:
    benchmark: str
    figure: str
    reference: str
    ratio: str
    target: str
    met: bool | None


def _fmt_bytes(n: float) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.2f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.2f} KB"
    return f"{n:.0f} B"


def reconcile_rows(quick: bool, raw: dict[str, object]) -> list[Row]:
    from .reconcile import reconcile

    rows: list[Row] = []
    results = []
    sizes = (1_000,) if quick else (1_000, 100_000)
    for n in sizes:
        for d in (0, 1, 10, 1_000):
            for layout in ("newest", "both-ways", "scattered"):
                r = reconcile(n, d, layout)
                results.append(r.as_dict())
                if not r.converged:
                    rows.append(
                        Row(
                            f"reconcile n={n} d={d} {layout}",
                            "did not converge",
                            "",
                            "",
                            "converge",
                            False,
                        )
                    )
                    continue
                name = f"reconcile n={n:,} d={d:,} ({layout})"
                target, met = "", None
                if d == 0:
                    target, met = "≤ 200 B", r.bytes <= 200
                elif n == 100_000 and d == 10:
                    target = "≤ 8 KB in ≤ 3 round trips"
                    met = r.bytes <= 8_000 and r.round_trips <= 3
                elif d == 1_000:
                    per = r.bytes / d
                    target, met = "≤ 200 B per difference", per <= 200
                figure = f"{_fmt_bytes(r.bytes)}, {r.round_trips:g} RT"
                if d:
                    figure += f", {r.bytes / d:.0f} B/diff"
                rows.append(
                    Row(
                        name,
                        figure,
                        f"dat-gossip ≥ {_fmt_bytes(r.dat_gossip_bytes)}",
                        f"{r.bytes / r.dat_gossip_bytes:.5f}",
                        target,
                        met,
                    )
                )
    raw["reconcile"] = results
    return rows


#: Graphs (of ten trials each) per mesh size: a 10,000-peer trial takes seconds, and fifty of
#: them keep the whole benchmark run within 20 minutes on a 2-core machine.
GRAPHS_FOR = {1_000: 10, 10_000: 5}


def propagation_rows(quick: bool, raw: dict[str, object]) -> list[Row]:
    from .propagation import percentile, run_many, target_rounds

    rows: list[Row] = []
    out: dict[str, object] = {}
    sizes = (1_000,) if quick else (1_000, 10_000)
    runs = [
        (n, faulty, 2 if quick else GRAPHS_FOR.get(n, 10))
        for n in sizes
        for faulty in (False, True)
    ]
    every = run_many(runs)
    for n in sizes:
        for faulty in (False, True):
            trials = every[(n, faulty)]
            reached_all = [t for t in trials if t.reached == n]
            rounds = [t.rounds for t in reached_all]
            p50, p99 = percentile(rounds, 50), percentile(rounds, 99)
            repeated = sum(t.repeated_on_a_link for t in trials)
            label = "5% loss, 10% leave and rejoin" if faulty else "no faults"
            out[f"{n}-{'faulty' if faulty else 'clean'}"] = [asdict(t) for t in trials]
            share = 100 * len(reached_all) / len(trials)
            goal = target_rounds(n)
            if faulty:
                after = [t.rounds - t.last_return for t in reached_all]
                rows.append(
                    Row(
                        f"propagation N={n:,} ({label}), {len(trials)} trials",
                        f"{share:.0f}% of trials reached every peer; rounds p50 {p50:g}, "
                        f"p99 {p99:g} (p99 {percentile(after, 99):g} after the last peer "
                        f"came back); repeats on a link: {repeated}",
                        "",
                        "",
                        "100% reached",
                        share == 100,
                    )
                )
            else:
                rows.append(
                    Row(
                        f"propagation N={n:,} ({label}), {len(trials)} trials",
                        f"rounds p50 {p50:g}, p99 {p99:g}; reached all in {share:.0f}%",
                        "",
                        "",
                        f"p99 ≤ log2(N)+2 = {goal:.1f} rounds",
                        share == 100 and p99 <= goal,
                    )
                )
                rows.append(
                    Row(
                        f"propagation N={n:,}: same operation twice on a link, one direction",
                        f"{repeated} times",
                        "",
                        "",
                        "0",
                        repeated == 0,
                    )
                )
    raw["propagation"] = out
    return rows


def transfer_rows(quick: bool, raw: dict[str, object]) -> list[Row]:
    from .transfer import run_all

    result = run_all(quick)
    raw["transfer"] = result
    rows: list[Row] = []
    share = result["share"]
    mb = share["bytes"] / 1e6
    if "ratio_to_b3sum" in share:
        ratio = share["ratio_to_b3sum"]
        rows.append(
            Row(
                f"share {share['bytes'] // 2**20} MiB (medians of {share['repeats']})",
                f"{share['share_mb_s']:,} MB/s; through the daemon "
                f"{mb / share['share_seconds']:,.0f} MB/s; data dir grew "
                f"{_fmt_bytes(share['data_dir_growth_bytes'])}",
                f"b3sum {share['b3sum_mb_s']:,} MB/s",
                f"{ratio:.2f}",
                "≥ 0.5 × b3sum; no copy",
                ratio >= 0.5 and share["data_dir_growth_bytes"] < share["bytes"] // 100,
            )
        )
    for name in ("fetch", "fetch_4gib"):
        if name not in result:
            continue
        fetch = result[name]
        mb = fetch["bytes"] / 1e6
        label = f"fetch {fetch['bytes'] // 2**20} MiB between two daemons"
        if fetch.get("runs", 1) > 1:
            label += f" (medians of {fetch['runs']}, taken in turn)"
        if "curl_seconds" in fetch:
            ratio = fetch["curl_seconds"] / fetch["fetch_seconds"]
            rows.append(
                Row(
                    label,
                    f"{mb / fetch['fetch_seconds']:,.0f} MB/s (verified, written, flushed); "
                    f"identical: {fetch['identical']}",
                    f"curl from nginx {mb / fetch['curl_seconds']:,.0f} MB/s; with the file "
                    f"flushed {mb / fetch['curl_fsync_seconds']:,.0f} MB/s",
                    f"{ratio:.2f} ({fetch['curl_fsync_seconds'] / fetch['fetch_seconds']:.2f} "
                    "vs flushed)",
                    "≥ 0.6 × curl",
                    ratio >= 0.6 and fetch["identical"],
                )
            )
        if "curl_https_seconds" in fetch:
            secure = fetch["curl_https_seconds"] / fetch["fetch_seconds"]
            rows.append(
                Row(
                    f"{label.split(' (')[0]}, encrypted both sides",
                    f"{mb / fetch['fetch_seconds']:,.0f} MB/s (TLS 1.3 link, as above)",
                    f"curl from nginx over HTTPS {mb / fetch['curl_https_seconds']:,.0f} MB/s",
                    f"{secure:.2f}",
                    "≥ 0.6 × curl over HTTPS",
                    secure >= 0.6 and fetch["identical"],
                )
            )
        synced = fetch.get("syncthing") or {}
        if "seconds" in synced:
            versus = synced["seconds"] / fetch["fetch_seconds"]
            rows.append(
                Row(
                    f"{label.split(' (')[0]}, against Syncthing",
                    f"{mb / fetch['fetch_seconds']:,.0f} MB/s (as above)",
                    f"Syncthing between two instances {mb / synced['seconds']:,.0f} MB/s; "
                    f"identical: {synced['identical']}",
                    f"{versus:.2f}",
                    "≥ 1.5 × Syncthing",
                    versus >= 1.5,
                )
            )
        if "cold_curl_seconds" in fetch and "cold_fetch_seconds" in fetch:
            cold = fetch["cold_curl_seconds"] / fetch["cold_fetch_seconds"]
            rows.append(
                Row(
                    f"{label.split(' (')[0]}, into memory the host took back",
                    f"{mb / fetch['cold_fetch_seconds']:,.0f} MB/s",
                    f"curl from nginx {mb / fetch['cold_curl_seconds']:,.0f} MB/s",
                    f"{cold:.2f}",
                    "shown for comparison",
                    None,
                )
            )
        growth = {
            side: (fetch["rss_peak_kib"][side] - fetch["rss_idle_kib"][side]) / 1024
            for side in ("a", "b")
        }
        rows.append(
            Row(
                f"{label}: resident memory",
                f"sender +{growth['a']:.0f} MiB, receiver +{growth['b']:.0f} MiB over idle",
                "",
                "",
                "≤ 64 MiB over idle",
                max(growth.values()) <= 64,
            )
        )
    spread = result["spread"]
    rows.append(
        Row(
            f"{spread['daemons']} daemons, ≤ 4 dialled each: new key listed by all",
            f"median {spread['median']:.3f} s over {len(spread['seconds'])} runs "
            f"(max {max(spread['seconds']):.3f} s)",
            "",
            "",
            "≤ 1 s",
            spread["median"] <= 1,
        )
    )
    return rows


def circle_rows(quick: bool, raw: dict[str, object]) -> list[Row]:
    from .circle import run_all

    result = run_all(quick)
    raw["circle"] = result
    rate = result["handshakes"]
    rows = [
        Row(
            "links one peer accepts (TLS 1.3 and membership proof, 4 callers at once)",
            f"{rate['per_second']:,.0f} a second ({rate['count']} in {rate['seconds']:.1f} s)",
            "",
            "",
            "reported",
            None,
        )
    ]
    found = result.get("discovery")
    if isinstance(found, dict) and "seconds" in found:
        rows.append(
            Row(
                "start to first member found on a namespace bridge (mDNS, no address given)",
                f"median {found['median']:.2f} s over {len(found['seconds'])} runs",
                "",
                "",
                "reported",
                None,
            )
        )
    elif isinstance(found, dict):
        rows.append(Row("discovery on a namespace bridge", found["skipped"], "", "", "", None))
    return rows


def window_rows(quick: bool, raw: dict[str, object]) -> list[Row]:
    from .window import big_list_alone, cold_start, lag_under_load

    rows: list[Row] = []
    start = cold_start(3 if quick else 7)
    raw["window_cold_start"] = {"window": start.window_seconds, "floor": start.floor_seconds}
    rows.append(
        Row(
            "window: cold start to first paint (median)",
            f"{start.median:.3f} s",
            f"Python + Qt, empty window {start.floor:.3f} s",
            f"{start.median / start.floor:.1f}",
            "≤ 1.0 s",
            start.median <= 1.0,
        )
    )
    lag = lag_under_load(file_bytes=(256 << 20) if quick else (2 << 30))
    size = f"{lag.hashed_bytes / 2**30:g} GiB" if lag.hashed_bytes >= 2**30 else "256 MiB"
    raw["window_lag"] = {
        "samples_ms": [round(1000 * s, 2) for s in lag.samples],
        "worst": lag.worst,
        "hash_s": lag.hash_seconds,
        "keys_s": lag.keys_seconds,
    }
    p99, worst = 1000 * lag.percentile(99), 1000 * max(lag.samples)
    rows.append(
        Row(
            f"window: event-loop lag, {size} dropped and hashed + {lag.keys:,} keys arriving",
            f"p99 {p99:.1f} ms, max {worst:.1f} ms ({len(lag.samples)} probes)",
            f"hashed in {lag.hash_seconds:.2f} s, keys listed in {lag.keys_seconds:.2f} s",
            "",
            "p99 ≤ 16 ms, max ≤ 50 ms",
            p99 <= 16 and worst <= 50,
        )
    )
    listed = big_list_alone(total=10_000 if quick else 100_000)
    raw["window_list"] = {
        "insert_ms": listed.insert_ms,
        "change_ms": listed.change_ms,
        "resident_mb": listed.resident_mb,
        "fill_s": listed.fill_seconds,
    }
    worst_update = max(listed.insert_ms + listed.change_ms)
    rows.append(
        Row(
            f"window: {listed.rows - 5_000:,} keys listed, update of 1,000 rows (5 new, 5 changed)",
            f"max {worst_update:.1f} ms (new rows {max(listed.insert_ms):.1f}, "
            f"changed rows {max(listed.change_ms):.1f})",
            f"all keys listed {listed.fill_seconds:.1f} s after linking",
            "",
            "≤ 50 ms",
            worst_update <= 50,
        )
    )
    rows.append(
        Row(
            f"window: resident memory with {listed.rows - 5_000:,} keys",
            f"{listed.resident_mb:.0f} MB",
            "",
            "",
            "< 250 MB",
            listed.resident_mb < 250,
        )
    )
    return rows


SUITES = {
    "reconcile": reconcile_rows,
    "propagation": propagation_rows,
    "transfer": transfer_rows,
    "circle": circle_rows,
    "window": window_rows,
}


#: Programs the references need, and the Debian packages they come in.
TOOLS = {"b3sum": "b3sum", "nginx": "nginx-light", "curl": "curl", "syncthing": "syncthing",
         "ip": "iproute2", "tc": "iproute2"}  # fmt: skip
NEEDS_TOOLS = {"transfer", "circle"}


def ensure_tools() -> list[str]:
    """Install the references' missing programs from Debian when it can (root, apt-get);
    services those packages bring are kept from starting (nginx must not listen on port 80
    of every interface: the benchmark runs its own, on 127.0.0.1). Returns what is still
    missing."""
    import os
    import shutil
    import subprocess

    missing = sorted({package for tool, package in TOOLS.items() if shutil.which(tool) is None})
    if not missing or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return missing
    print(f"installing {' '.join(missing)}…", file=sys.stderr, flush=True)
    policy = Path("/usr/sbin/policy-rc.d")
    ours = not policy.exists()
    if ours:
        policy.write_text("#!/bin/sh\nexit 101\n")  # "do not start services"
        policy.chmod(0o755)
    try:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                       check=False, env=env, stdout=subprocess.DEVNULL)  # fmt: skip
    finally:
        if ours:
            policy.unlink()
    return sorted({package for tool, package in TOOLS.items() if shutil.which(tool) is None})


def markdown(rows: list[Row]) -> str:
    lines = [
        "| benchmark | figure | reference | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        met = "—" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(
            f"| {row.benchmark} | {row.figure} | {row.reference} | {row.ratio} | "
            f"{row.target} | {met} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m natakanu_peer.bench", description=__doc__)
    parser.add_argument("suites", nargs="*", choices=[*SUITES, []], help="default: all")
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="output folder")
    args = parser.parse_args(argv)
    chosen = args.suites or list(SUITES)
    rows: list[Row] = []
    raw: dict[str, object] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {platform.platform()}",
        "python": sys.version.split()[0],
    }
    started = time.perf_counter()
    if NEEDS_TOOLS & set(chosen):
        still = ensure_tools()
        if still:
            print(f"without {' '.join(still)}: those references are left out", file=sys.stderr)
    for suite in chosen:
        print(f"running {suite}…", file=sys.stderr, flush=True)
        rows.extend(SUITES[suite](args.quick, raw))
    raw["seconds"] = round(time.perf_counter() - started, 1)
    raw["rows"] = [asdict(r) for r in rows]
    table = markdown(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(raw, indent=2))
    (args.out / "results.md").write_text(table + "\n")
    print(table)
    print(f"\n{raw['date']}, {raw['machine']}, {raw['seconds']} s", file=sys.stderr)
    return 0 if all(r.met is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
