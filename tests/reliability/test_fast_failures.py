"""A price file that parses but fails validation (or is too short) ends `nightcast run`, `backtest`, `compare`
and `backfill` (when every night it replays would fail), and a folder whose every file fails ends `nightly`,
before Prefect, Great Expectations or TensorFlow is imported, with the one line the flow would end with, and
changes nothing stored (#23). Each case runs the real command line in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.test_bad_input import baseline, yahoo_layout  # noqa: F401 (a fixture)

HEAVY = ("tensorflow", "prefect", "great_expectations")
CODE = (
    "import sys; from cli import main; code = main(sys.argv[1:]); "
    f"print(sorted(m for m in {HEAVY!r} if m in sys.modules)); sys.exit(code)"
)
VALIDATION = "validate failed: validation failed for NEWCO: 1 of 16 expectations failed: "
FILES = {
    "negative_close": lambda: yahoo_layout(edits={(12, "Close"): -5.0}),
    "date_backwards": lambda: yahoo_layout().iloc[[1, 0, *range(2, 150)]],
    "duplicated_date": lambda: yahoo_layout(edits={(31, "Date"): yahoo_layout()["Date"][30]}),
    "too_few_rows": lambda: yahoo_layout(n=50),
}
CASES = {
    "run_negative_close": (["run"], "negative_close", VALIDATION + "close has 1 value(s) not > 0.0 (e.g. -5)"),
    "run_date_backwards": (
        ["run"],
        "date_backwards",
        VALIDATION + "date is not strictly increasing at 1 row(s) (e.g. 2020-01-01)",
    ),
    "run_duplicated_date": (["run"], "duplicated_date", "date has 2 duplicated value(s) (e.g. 2020-02-12, 2020-02-12)"),
    "run_too_few_rows": (
        ["run"],
        "too_few_rows",
        VALIDATION + "only 50 rows, need at least 103 (a full window of time_step closes for every candidate)",
    ),
    "backtest_too_few_rows": (
        ["backtest"],
        "too_few_rows",
        "too little history for a backtest of NEWCO: 50 rows is too few for 5 folds of 20 days: the first fold "
        "needs 102 rows to fit on, so at least 202 rows",
    ),
    "backtest_negative_close": (
        ["backtest", "--time-step", "10", "--folds", "1"],
        "negative_close",
        VALIDATION + "close has 1 value(s) not > 0.0",
    ),
    "backfill_negative_close": (
        ["backfill", "--days", "3"],
        "negative_close",
        VALIDATION + "close has 1 value(s) not > 0.0 (e.g. -5) (as does every one of the 3 nights to replay)",
    ),
    "compare_negative_close": (["compare"], "negative_close", VALIDATION + "close has 1 value(s) not > 0.0"),
    "compare_too_few_rows": (["compare"], "too_few_rows", VALIDATION + "only 50 rows, need at least 128"),
}


def every_file(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run_cli(args: list[str], cwd) -> subprocess.CompletedProcess:
    """The command line in a fresh interpreter; stdout's last line lists the heavy modules it imported."""
    return subprocess.run([sys.executable, "-c", CODE, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("case", CASES)
def test_a_bad_file_ends_in_one_line_before_anything_heavy_is_imported(baseline, tmp_path, case):  # noqa: F811
    command, kind, message = CASES[case]
    FILES[kind]().to_csv(tmp_path / "bad.csv", index=False)
    shutil.copytree(baseline, tmp_path / "wh")
    before = every_file(tmp_path / "wh")
    source = ["--source", "file", "--path", "bad.csv", "--ticker", "NEWCO", "--warehouse", str(tmp_path / "wh")]
    done = run_cli([*command, *source], tmp_path)
    assert done.returncode == 1, done.stderr[-3000:]
    assert done.stdout == "[]\n", done.stdout  # TensorFlow, Prefect and GX never imported
    [line] = done.stderr.splitlines()
    assert line.startswith("nightcast: error: ") and message in line, line
    assert every_file(tmp_path / "wh") == before  # not even a run record: it ended before any run began


def test_a_header_only_file_ends_in_one_line_before_anything_heavy_is_imported(tmp_path):
    (tmp_path / "empty.csv").write_text("Date,Open,High,Low,Close,Volume\n")
    done = run_cli(["run", "--source", "file", "--path", "empty.csv", "--ticker", "NEWCO"], tmp_path)
    assert done.returncode == 1 and done.stdout == "[]\n", (done.stdout, done.stderr)
    assert done.stderr.splitlines() == [
        "nightcast: error: ingest failed: no prices for 'NEWCO' between the earliest date and the latest date "
        "from source 'file'"
    ]


def test_a_folder_whose_every_file_fails_ends_the_nightly_with_a_line_per_ticker(tmp_path):
    folder = tmp_path / "prices"
    folder.mkdir()
    FILES["negative_close"]().to_csv(folder / "AAA.csv", index=False)
    FILES["too_few_rows"]().to_csv(folder / "BB.csv", index=False)
    (folder / "CC.csv").write_text("Date,Open,High,Low,Close,Volume\n")
    source = ["--source", "file", "--path", str(folder), "--warehouse", str(tmp_path / "wh")]
    done = run_cli(["nightly", *source], tmp_path)
    assert done.returncode == 1 and done.stderr == "", done.stderr[-3000:]
    *lines, heavy = done.stdout.splitlines()
    assert heavy == "[]"
    assert lines == [
        "AAA  FAILED validate failed: validation failed for AAA: 1 of 16 expectations failed: close has 1 value(s) "
        "not > 0.0 (e.g. -5)",
        "BB   FAILED validate failed: validation failed for BB: 1 of 16 expectations failed: only 50 rows, need at "
        "least 103 (a full window of time_step closes for every candidate)",
        "CC   FAILED ingest failed: no prices for 'CC' between the earliest date and the latest date from source "
        "'file'",
        "0 of 3 tickers completed (none started: nothing was stored)",
    ]
    assert not (tmp_path / "wh").exists()
