"""`python -m bench [--quick] [--only SECTION ...]`: run the benchmarks and print one table.

Sections: train (fast fit vs the tutorial-faithful fit, GOOG and ^GSPC, test RMSE over 3 seeds),
run (`nightcast run` wall time and peak memory), window, duckdb, dask, budget (a 60-night backfill of
GOOG from an empty warehouse: the nightly time budget), scale (the warehouse at 500 tickers x 20, 250
and 1,260 nights), ingest (500 tickers on a fake Yahoo: rows and calls a night asks for, whole history vs
incremental, and one ticker's ingest time). A full run takes about an hour on 2 cores, --quick (GOOG, one seed, one
`nightcast run`, smaller inputs, a 10-night backfill, 20 and 250 nights of scale) about 15 minutes.
Timings are noisy on a shared machine: every ratio is taken side by side in this run, and repeats
report medians.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

from bench import common

SECTIONS = ("train", "run", "window", "duckdb", "dask", "budget", "scale", "ingest")
BEFORE = {"full_s": 13.3, "fine_tune_s": 1.2}
"""Training seconds of one night of main before candidates (one simple_rnn on GOOG, README of 2026-11-25)."""
EXTRA_SECTIONS = ("ablation", "universe", "lanes")
SP500 = 500
CLUSTER_WORKERS = 16


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fit(kind: str, ticker: str, seed: int) -> dict:
    """One fit in its own process; returns its JSON report plus the process's peak memory."""
    result = common.run_process([common.PYTHON, "-m", "bench.fit", kind, ticker, str(seed)])
    report = result.json()
    report.update(maxrss_mb=result.maxrss_mb, process_s=result.wall)
    return report


def fit_pair(kind: str, ticker: str, seeds: list[int]) -> list[dict]:
    """Two fits at once (one per core), for accuracy only: their times are not comparable."""
    import subprocess
    import tempfile

    procs = []
    for seed in seeds:
        out = tempfile.TemporaryFile("w+")
        procs.append(
            (
                subprocess.Popen(
                    [common.PYTHON, "-m", "bench.fit", kind, ticker, str(seed)],
                    stdout=out,
                    stderr=subprocess.DEVNULL,
                    env=common.child_env(TF_NUM_INTEROP_THREADS="1", TF_NUM_INTRAOP_THREADS="1"),
                    cwd=common.ROOT,
                ),
                out,
            )
        )
    reports = []
    for proc, out in procs:
        proc.wait()
        out.seek(0)
        lines = [line for line in out.read().splitlines() if line.startswith("{")]
        if not lines:
            raise RuntimeError(f"{kind} {ticker} fit failed (exit {proc.returncode})")
        reports.append({**json.loads(lines[-1]), "concurrent": True})
    return reports


def bench_train(quick: bool) -> dict:
    """Default training vs the tutorial-faithful fit, both series, side by side in fresh processes."""
    tickers = ["GOOG"] if quick else ["GOOG", "^GSPC"]
    seeds = [0] if quick else [0, 1, 2]
    out = {}
    for ticker in tickers:
        log(f"train {ticker}: tutorial-faithful reference, seed 0 (alone, timed)")
        reference = [fit("tutorial", ticker, 0)]
        ours = []
        for seed in seeds:
            log(f"train {ticker}: nightcast default training, seed {seed} (alone, timed)")
            ours.append(fit("nightcast", ticker, seed))
        if len(seeds) > 1:
            log(f"train {ticker}: tutorial-faithful reference, seeds {seeds[1:]} (two at once, accuracy only)")
            reference += fit_pair("tutorial", ticker, seeds[1:])
        ref_time = statistics.median(r["seconds"] for r in reference if not r.get("concurrent"))
        our_time = statistics.median(r["seconds"] for r in ours)
        out[ticker] = {
            "reference": reference,
            "nightcast": ours,
            "reference_s": ref_time,
            "nightcast_s": our_time,
            "ratio": ref_time / our_time,
            "reference_rmse": statistics.mean(r["rmse"] for r in reference),
            "nightcast_rmse": statistics.mean(r["rmse"] for r in ours),
            "reference_maxrss_mb": max(r["maxrss_mb"] for r in reference if not r.get("concurrent")),
            "nightcast_fit_maxrss_mb": max(r["maxrss_mb"] for r in ours),
        }
    return out


def expected_failures() -> dict[str, float]:
    """Seconds from process start to the one error line, for each kind of expected failure (bench.failures)."""
    from bench import failures

    log("expected failures: a missing file, an unknown ticker, a bad setting, a refused query, bad price files")
    return failures.measure()


def bench_run(quick: bool) -> dict:
    from bench import cli_run

    runs = []
    for i in range(1 if quick else 3):
        log(f"nightcast run {i + 1} (fresh warehouse and PREFECT_HOME)")
        runs.append(cli_run.run_once())
    ok = [r for r in runs if r.ok]
    if not ok:
        return {"error": runs[-1].error}
    median_run = sorted(ok, key=lambda r: r.wall)[len(ok) // 2]
    out = {
        "walls": [r.wall for r in ok],
        "wall_s": statistics.median(r.wall for r in ok),
        "maxrss_mb": max(r.maxrss_mb for r in ok),
        "tree_peak_mb": max(r.tree_peak_mb for r in ok),
        "train_seconds": [r.train_seconds for r in ok],
        "phases": median_run.phases,
    }
    out["failures"] = expected_failures()
    if not quick:
        log("nightcast run with a PREFECT_HOME that already holds a migrated database (diagnostic)")
        reused = cli_run.reused_home_run()
        out["reused_home_wall_s"] = reused.wall
        out["reused_home_phases"] = reused.phases
    return out


def bench_window(quick: bool) -> dict:
    from bench import windowing

    log("windowing 10,000 rows")
    return windowing.measure()


def bench_duckdb(quick: bool) -> dict:
    from bench import warehouse

    log("DuckDB vs pandas over a generated warehouse")
    return warehouse.measure(days=400 if quick else 2000)


def dask_key(cluster: str, workers: int) -> int | str:
    """Where bench_dask keeps a run: the worker count for the flow's own cluster, external_N for the other."""
    return workers if cluster == "local" else f"external_{workers}"


def bench_dask(quick: bool) -> dict:
    count, days = (4, "600") if quick else (8, "1000")
    out: dict = {}
    for cluster in ("local", "external"):
        for workers in (1, 2):
            log(f"nightly flow on a Dask {cluster} cluster of {workers} worker(s), {count} tickers of {days} days")
            result = common.run_process(
                [common.PYTHON, "-m", "bench.nightly", str(workers), str(count), cluster],
                env=common.child_env(NIGHTCAST_BENCH_DAYS=days),
            )
            out[dask_key(cluster, workers)] = result.json()
        prefix = "" if cluster == "local" else "external_"
        for key in ("tickers_per_min", "tickers_per_min_wall"):
            ratio = out[dask_key(cluster, 2)][key] / out[dask_key(cluster, 1)][key]
            out[prefix + "ratio" + key.removeprefix("tickers_per_min")] = ratio
    return out


def bench_universe(quick: bool, tickers: int) -> dict:
    count = min(tickers, 20) if quick else tickers
    log(f"universe: {count} synthetic tickers of 2,000 sessions, three nights of the nightly flow (bench.universe)")
    result = common.run_process([common.PYTHON, "-m", "bench.universe", str(count)], timeout=6 * 3600)
    return result.json()


def bench_lanes(quick: bool) -> dict:
    log("lanes: RNN fits in stacks of 1 to 24 lanes, two processes side by side (bench.lanes)")
    return common.run_process([common.PYTHON, "-m", "bench.lanes"], timeout=3600).json()


def bench_budget(quick: bool) -> dict:
    from bench import budget

    days = 10 if quick else 60
    log(f"nightly budget: nightcast backfill --ticker GOOG --days {days} from an empty warehouse")
    return budget.measure("GOOG", days)


def bench_scale(quick: bool) -> list[dict]:
    from bench import scale

    return scale.measure(log, scale.SIZES[:2] if quick else scale.SIZES)


def bench_ingest(quick: bool) -> dict:
    from bench import ingest

    return ingest.measure(log)


def bench_ablation(quick: bool) -> list[dict]:
    from bench import ablation

    return ablation.measure()


def fmt_s(seconds: float) -> str:
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.1f} s"


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def render(results: dict, quick: bool, started: dt.datetime, elapsed: float, load_before: str) -> str:
    lines = [
        f"nightcast benchmarks, {started:%Y-%m-%d %H:%M} UTC, {'--quick' if quick else 'full'} run, "
        f"{elapsed / 60:.1f} min",
        f"machine: {common.cores()} cores, {common.cpu_model()}; load average before {load_before}, "
        f"after {common.load_average()}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in common.versions().items()),
        "",
        "| figure | nightcast | reference | ratio | goal | met |",
        "|---|---|---|---|---|---|",
    ]
    train = results.get("train", {})
    for ticker, r in train.items():
        n_seeds = len(r["nightcast"])
        lines.append(
            f"| training {ticker} ({r['nightcast'][0]['n_train']} windows, up to 80 epochs), median of "
            f"{n_seeds} seed(s) | {fmt_s(r['nightcast_s'])} | {fmt_s(r['reference_s'])} tutorial-faithful "
            f"fit (seed 0) | {r['ratio']:.1f}x | >= 10x | {verdict(r['ratio'] >= 10)} |"
        )
        lines.append(
            f"| test RMSE {ticker}, mean of {n_seeds} seed(s) | {r['nightcast_rmse']:.2f} | "
            f"{r['reference_rmse']:.2f} | {r['reference_rmse'] / r['nightcast_rmse']:.2f}x | no worse | "
            f"{verdict(r['nightcast_rmse'] <= r['reference_rmse'])} |"
        )
    run = results.get("run")
    if run and "error" not in run:
        lines.append(
            f"| `nightcast run` wall from process start, median of {len(run['walls'])} | "
            f"{fmt_s(run['wall_s'])} | | | <= 30 s | {verdict(run['wall_s'] <= 30)} |"
        )
        slowest = max(run["failures"], key=run["failures"].get)
        lines.append(
            f"| an expected failure's one line, from process start (slowest: {slowest}) | "
            f"{fmt_s(run['failures'][slowest])} | | | <= 3 s | {verdict(run['failures'][slowest] <= 3)} |"
        )
    window = results.get("window")
    if window:
        lines.append(
            f"| windowing {window['rows']:,} rows, time_step {window['time_step']} | "
            f"{fmt_s(window['nightcast_s'])} | {fmt_s(window['tutorial_s'])} tutorial loop | "
            f"{window['ratio']:.0f}x | >= 50x | {verdict(window['ratio'] >= 50)} |"
        )
    duck = results.get("duckdb")
    if duck:
        for layout, label in (("nightcast", "files as nightcast writes them"), ("compacted", "compacted")):
            d = duck[layout]
            for query, name in (("latest", "latest forecast per ticker"), ("monthly", "monthly RMSE per ticker")):
                q = d[query]
                ok = q["duckdb_s"] < 0.1 and q["ratio"] >= 10
                lines.append(
                    f"| DuckDB {name}, {duck['rows']['forecasts']:,} rows/table, {duck['tickers']} "
                    f"tickers, {d['files']:,} files ({label}) | {fmt_s(q['duckdb_s'])} | "
                    f"{fmt_s(q['pandas_s'])} pandas | {q['ratio']:.1f}x | < 100 ms and >= 10x | "
                    f"{verdict(ok)} |"
                )
    dask = results.get("dask")
    if dask:
        one, two = dask[1], dask[2]
        lines.append(
            f"| many tickers, Dask 1 worker ({one['tickers']} synthetic tickers of {one['days']} days), "
            f"fine-tune night | {one['tickers_per_min']:.1f} tickers/min | | | figure | |"
        )
        lines.append(
            f"| many tickers, Dask 2 workers vs 1, fine-tune night | {two['tickers_per_min']:.1f} tickers/min | "
            f"{one['tickers_per_min']:.1f} tickers/min | {dask['ratio']:.2f}x | >= 1.8x | "
            f"{verdict(dask['ratio'] >= 1.8)} |"
        )
        lines.append(
            f"| many tickers, Dask 2 workers vs 1, cold-start night incl. cluster start | "
            f"{two['tickers_per_min_wall']:.1f} tickers/min | {one['tickers_per_min_wall']:.1f} tickers/min | "
            f"{dask['ratio_wall']:.2f}x | | |"
        )
        if "external_1" in dask:
            one, two = dask["external_1"], dask["external_2"]
            lines.append(
                f"| many tickers, external `dask scheduler` + 2 `dask worker` vs 1, fine-tune night | "
                f"{two['tickers_per_min']:.1f} tickers/min | {one['tickers_per_min']:.1f} tickers/min | "
                f"{dask['external_ratio']:.2f}x | >= 1.8x | {verdict(dask['external_ratio'] >= 1.8)} |"
            )
    lines += budget_lines(results.get("budget"))
    if results.get("ingest"):
        from bench.ingest import lines as ingest_lines

        lines += ingest_lines(results["ingest"])
    if run and "error" not in run and train:
        reference_mb = max(r["reference_maxrss_mb"] for r in train.values())
        lines.append(
            f"| peak memory of one `nightcast run` (largest process; whole tree incl. Prefect server) | "
            f"{run['maxrss_mb']:.0f} MB ({run['tree_peak_mb']:.0f} MB) | {reference_mb:.0f} MB "
            f"tutorial-faithful script | | lower | {verdict(run['maxrss_mb'] < reference_mb)} |"
        )
    lines.append("")
    if train:
        lines += [
            "per fit (seconds: model construction, compilation and every epoch; RMSE in price units on the "
            "test period):",
            "",
            "| series | fit | seed | seconds | epochs | test RMSE | peak MB |",
            "|---|---|---|---|---|---|---|",
        ]
        for ticker, r in train.items():
            for kind in ("reference", "nightcast"):
                for f in r[kind]:
                    seconds = "(concurrent)" if f.get("concurrent") else f"{f['seconds']:.1f}"
                    peak = "" if f.get("concurrent") else f"{f['maxrss_mb']:.0f}"
                    name = "tutorial-faithful" if kind == "reference" else "nightcast default"
                    lines.append(
                        f"| {ticker} | {name} | {f['seed']} | {seconds} | {f['epochs_run']} | "
                        f"{f['rmse']:.2f} | {peak} |"
                    )
        lines.append("")
    if run and "error" not in run:
        lines += [
            f"`nightcast run` walls: {', '.join(f'{w:.1f} s' for w in run['walls'])}; phases of the median run:",
            "",
        ]
        lines += [f"    {seconds:6.2f} s  {label}" for label, seconds in run["phases"]]
        if "reused_home_wall_s" in run:
            lines += [
                "",
                f"with an already-migrated PREFECT_HOME (a second run on the same machine): "
                f"{run['reused_home_wall_s']:.1f} s",
            ]
            lines += [f"    {seconds:6.2f} s  {label}" for label, seconds in run["reused_home_phases"][:2]]
        lines.append("")
    ablation = results.get("ablation")
    if ablation:
        base = next((a["per_epoch_s"] for a in ablation if a["variant"] == "keras-fit" and "per_epoch_s" in a), None)
        lines += [
            "training techniques one by one (GOOG, batch 32 unless named; fresh process each):",
            "",
            "| variant | first epoch (incl. compile) | per epoch | vs Keras fit |",
            "|---|---|---|---|",
        ]
        for a in ablation:
            if "per_epoch_s" not in a:
                lines.append(f"| {a['description']} | failed | | |")
                continue
            speed = f"{base / a['per_epoch_s']:.1f}x" if base else ""
            lines.append(f"| {a['description']} | {a['first_epoch_s']:.2f} s | {a['per_epoch_s']:.3f} s | {speed} |")
        lines.append("")
    if dask:
        per_ticker = 60 / dask[1]["tickers_per_min"]
        machine_min = SP500 / dask[2]["tickers_per_min"]
        cluster_min = SP500 / (CLUSTER_WORKERS * dask[1]["tickers_per_min"])
        lines += [
            f"projection (from the measured {per_ticker:.1f} s per ticker on one worker, "
            f"{dask[1]['days']}-day tickers): S&P 500 ({SP500} tickers) on this machine with 2 workers "
            f"{machine_min:.0f} min; on a Dask cluster of {CLUSTER_WORKERS} such workers "
            f"{cluster_min:.1f} min plus start-up."
        ]
        if train.get("GOOG"):
            goog = train["GOOG"]["nightcast_s"]
            lines.append(
                f"with GOOG-sized histories ({train['GOOG']['nightcast'][0]['n_train']} training windows, "
                f"{goog:.1f} s of training each, plus ~2 s of other stages): about "
                f"{SP500 * (goog + 2) / 60 / dask['ratio']:.0f} min on this machine (2 workers at the "
                f"measured {dask['ratio']:.2f}x), {SP500 * (goog + 2) / 60 / CLUSTER_WORKERS:.1f} min on "
                f"{CLUSTER_WORKERS} workers."
            )
    lines += scale_lines(results.get("scale"))
    return "\n".join(lines)


def budget_lines(budget: dict | None) -> list[str]:
    """The nightly time budget beside main before candidates (one RNN on 80% of the history)."""
    if not budget:
        return []
    nights = budget["days"]
    return [
        f"| training on a fine-tune night, GOOG, every default candidate (max of {budget['fine_tune_nights']}) | "
        f"{fmt_s(budget['fine_tune_max_s'])} | {fmt_s(BEFORE['fine_tune_s'])} one RNN before | | <= 20 s | "
        f"{verdict(budget['fine_tune_max_s'] <= 20)} |",
        f"| training on a full-refit night (max of {budget['full_nights']}) | {fmt_s(budget['full_max_s'])} | "
        f"{fmt_s(BEFORE['full_s'])} one RNN before | | <= 60 s | {verdict(budget['full_max_s'] <= 60)} |",
        f"| training on the cold-start night (backtest folds of every candidate included) | "
        f"{fmt_s(budget['cold_start_s'])} | | | figure | |",
        f"| `nightcast backfill --days {nights}` of GOOG from an empty warehouse | {fmt_s(budget['backfill_s'])} | | | "
        f"<= 15 min for 60 | {verdict(nights < 60 or budget['backfill_s'] <= 900)} |",
    ]


def scale_lines(results: list[dict] | None) -> list[str]:
    """The warehouse at S&P 500 scale, ending with the one-line summary."""
    if not results:
        return []
    from bench.scale import TICKERS, last_line, query_lines

    lines = [
        "",
        f"warehouse at scale ({TICKERS} tickers; `nightcast query` end to end, best of 3; overhead: one "
        "ticker's nightly reads and writes, median of the 100 live nights of 5 tickers; a fold night adds the "
        "fold, and the mean spreads it over the nights between folds):",
        "",
        "| nights | files | MB | latest per ticker | one ticker's history | accuracy of one ticker | leaderboard "
        "h1, all tickers | 10 worst tickers | served count, all | same count, plain DuckDB | overhead "
        "| fold night adds | mean overhead |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['nights']} | {r['files']:,} | {r['bytes'] / 1e6:.0f} | {r['latest']:.2f} s | "
        f"{r['history']:.2f} s | {r['accuracy']:.2f} s | {r['leaderboard']:.2f} s | {r['worst']:.2f} s | "
        f"{r['served']:.2f} s | {r['plain_served']:.2f} s | {r['overhead_s']:.2f} s | {r['fold_s']:.2f} s | "
        f"{r['mean_s']:.2f} s |"
        for r in results
    ]
    return [*lines, "", *query_lines(results), "", last_line(results)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller inputs, one seed, one repeat")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS + EXTRA_SECTIONS,
        default=list(SECTIONS),
        help="sections to run (ablation: each training technique on its own; not run by default)",
    )
    parser.add_argument("--tickers", type=int, default=500, help="tickers of the universe section (default: 500)")
    parser.add_argument("--json", type=Path, help="also write every measurement to this JSON file")
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    load_before = common.load_average()
    clock = time.perf_counter()
    results: dict = {}
    runners = {
        "train": bench_train,
        "run": bench_run,
        "window": bench_window,
        "duckdb": bench_duckdb,
        "dask": bench_dask,
        "budget": bench_budget,
        "scale": bench_scale,
        "ingest": bench_ingest,
        "ablation": bench_ablation,
        "universe": lambda quick: bench_universe(quick, args.tickers),
        "lanes": bench_lanes,
    }
    for section in SECTIONS + EXTRA_SECTIONS:
        if section in args.only:
            try:
                results[section] = runners[section](args.quick)
            except Exception as error:  # report the others even if one section fails
                log(f"{section} failed: {error}")
                results[section + "_error"] = str(error)
    text = render(results, args.quick, started, time.perf_counter() - clock, load_before)
    errors = [f"{k}: {v}" for k, v in results.items() if k.endswith("_error")]
    if "lanes" in results:
        from bench.lanes import lines as lanes_lines

        text += "\n\n" + "\n".join(lanes_lines(results["lanes"]))
    if "universe" in results:  # its line is the run's last
        from bench.universe import last_line as universe_line

        text += "\n\n" + json.dumps(results["universe"]) + "\n" + universe_line(results["universe"])
    print(text + ("\n\nfailed sections: " + "; ".join(errors) if errors else ""))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
