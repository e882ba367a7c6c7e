import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nightcast.schema import TABLES
from nightcast.warehouse import QueryRefused, Warehouse, resolve_root


@pytest.fixture
def warehouse(tmp_path):
    return Warehouse(tmp_path / "wh")


def test_every_table_is_a_typed_view_even_when_empty(warehouse):
    for table, schema in TABLES.items():
        frame = warehouse.query(f"select * from {table}")
        assert list(frame.columns) == schema.names and frame.empty


def test_prices_merge_adds_new_dates_only(warehouse, prices):
    now = pd.Timestamp("2024-01-01", tz="UTC")
    frame = prices(30, ticker="GOOG")
    assert warehouse.merge_prices(frame.iloc[:20], "GOOG", "sample", now) == 20
    assert warehouse.merge_prices(frame, "GOOG", "sample", now) == 10
    assert warehouse.merge_prices(frame, "GOOG", "sample", now) == 0
    stored = warehouse.query("select * from prices order by date")
    assert len(stored) == 30 and stored["date"].is_unique
    assert stored["close"].tolist() == pytest.approx(frame["close"].tolist())


def test_tickers_are_partitioned_and_do_not_touch_each_other(warehouse, prices):
    now = pd.Timestamp("2024-01-01", tz="UTC")
    warehouse.merge_prices(prices(10, ticker="GOOG"), "GOOG", "sample", now)
    goog_file = warehouse.partition("prices", "GOOG") / "prices.parquet"
    before = goog_file.read_bytes()
    warehouse.merge_prices(prices(12, ticker="^GSPC"), "^GSPC", "sample", now)
    assert goog_file.read_bytes() == before
    assert (warehouse.root / "prices" / "ticker=^GSPC" / "prices.parquet").exists()
    counts = warehouse.query("select ticker, count(*) n from prices group by 1 order by 1")
    assert counts.to_dict("records") == [{"ticker": "GOOG", "n": 10}, {"ticker": "^GSPC", "n": 12}]


def test_run_tables_round_trip_with_dates_and_timestamps(warehouse):
    row = pd.DataFrame(
        [
            {
                "run_id": "r1",
                "ticker": "GOOG",
                "as_of": pd.Timestamp("2013-03-01"),
                "target_date": pd.Timestamp("2013-03-04"),
                "horizon": 1,
                "forecast": 805.5,
                "model_version": "simple_rnn-r1",
            }
        ]
    )
    path = warehouse.write_run_table("forecasts", "GOOG", "r1", row)
    assert path == warehouse.root / "forecasts" / "ticker=GOOG" / "forecasts.recent.parquet"  # the small file
    out = warehouse.query("select as_of, target_date, horizon, forecast from forecasts")
    assert str(out["as_of"].iloc[0])[:10] == "2013-03-01" and out["forecast"].iloc[0] == 805.5


def run(run_id: str, status: str, ticker: str = "GOOG") -> pd.DataFrame:
    return pd.DataFrame([{"run_id": run_id, "ticker": ticker, "status": status}])


def test_rewriting_a_run_replaces_its_rows_in_the_recent_file_and_leaves_no_temporary_files(warehouse):
    for status in ("running", "completed"):
        warehouse.write_run_table("runs", "GOOG", "r1", run("r1", status))
    warehouse.write_run_table("runs", "GOOG", "r2", run("r2", "running"))
    assert warehouse.query("select run_id, status from runs order by 1").values.tolist() == [
        ["r1", "completed"],
        ["r2", "running"],
    ]
    assert [p.name for p in (warehouse.root / "runs" / "ticker=GOOG").iterdir()] == ["runs.recent.parquet"]


def test_two_files_per_ticker_and_table_however_many_runs_and_a_night_rewrites_the_small_one(warehouse):
    from nightcast.run_tables import RECENT_RUNS

    for i in range(2 * RECENT_RUNS + 7):
        for ticker in ("GOOG", "MSFT"):
            written = warehouse.write_run_table("runs", ticker, f"r{i:03d}", run(f"r{i:03d}", "completed", ticker))
            assert written.name == ("runs.parquet" if i % (RECENT_RUNS + 1) == RECENT_RUNS else "runs.recent.parquet")
    assert sorted(str(p.relative_to(warehouse.root)) for p in warehouse.root.glob("runs/*/*")) == [
        "runs/ticker=GOOG/runs.parquet",
        "runs/ticker=GOOG/runs.recent.parquet",
        "runs/ticker=MSFT/runs.parquet",
        "runs/ticker=MSFT/runs.recent.parquet",
    ]
    recent = pq.read_table(warehouse.recent_file("runs", "GOOG"))
    assert len(recent) == 2 * RECENT_RUNS + 7 - 2 * (RECENT_RUNS + 1)  # the runs since the last fold
    assert warehouse.query("select count(*) n, count(distinct run_id) d from runs").values.tolist() == [
        [2 * (2 * RECENT_RUNS + 7), 2 * RECENT_RUNS + 7]
    ]


def test_a_rerun_of_a_folded_run_replaces_its_rows_in_the_big_file(warehouse):
    from nightcast.run_tables import RECENT_RUNS

    for i in range(RECENT_RUNS + 3):
        warehouse.write_run_table("runs", "GOOG", f"r{i:03d}", run(f"r{i:03d}", "running"))
    assert warehouse.write_run_table("runs", "GOOG", "r000", run("r000", "abandoned")).name == "runs.parquet"
    assert pq.read_metadata(warehouse.recent_file("runs", "GOOG")).num_rows == 0  # emptied, never deleted
    rows = warehouse.query("select run_id, status from runs order by 1").values.tolist()
    assert len(rows) == RECENT_RUNS + 3 and rows[0] == ["r000", "abandoned"]


def test_a_fold_that_died_before_emptying_the_recent_file_shows_no_row_twice(warehouse):
    """A fold renames the big file over the old one, then an empty recent file over the recent one: a reader
    in between (or after a kill -9 there) finds the same runs in both."""
    import shutil

    for i in range(3):
        warehouse.write_run_table("runs", "GOOG", f"r{i}", run(f"r{i}", "completed"))
    recent = warehouse.recent_file("runs", "GOOG")
    shutil.copy(recent, recent.with_name("kept"))
    assert warehouse.fold("runs", "GOOG") == 1 and pq.read_metadata(recent).num_rows == 0
    assert warehouse.fold("runs", "GOOG") == 0  # nothing left to fold
    shutil.move(recent.with_name("kept"), recent)  # the state between the fold's two renames
    assert warehouse.query("select count(*) n from runs")["n"][0] == 3
    assert warehouse.query("select count(*) n from runs", tickers=["GOOG"])["n"][0] == 3
    warehouse.write_run_table("runs", "GOOG", "r3", run("r3", "completed"))  # the next write drops them
    assert len(pq.read_table(recent)) == 1
    assert warehouse.query("select count(*) n from runs")["n"][0] == 4


def test_runs_in_both_files_are_found_among_tickers_whose_recent_runs_are_older_or_newer(warehouse):
    """The check for runs in both files looks them up from the recent files (their smallest and largest run
    prune the big files' scan): a ticker caught between a fold's two renames, beside tickers whose recent
    runs sort before and after its folded ones, still shows each run once, over every ticker or one."""
    import shutil

    for ticker, runs in {"AAA": ["r5", "r6"], "BBB": ["r1", "r2"], "CCC": ["r8", "r9"]}.items():
        for run_id in runs:
            warehouse.write_run_table("runs", ticker, run_id, run(run_id, "completed", ticker))
    recent = warehouse.recent_file("runs", "AAA")
    shutil.copy(recent, recent.with_name("kept"))
    warehouse.fold("runs", "AAA")
    shutil.move(recent.with_name("kept"), recent)  # AAA's runs r5 and r6 in both of its files
    warehouse.fold("runs", "BBB")
    warehouse.write_run_table("runs", "BBB", "r3", run("r3", "completed", "BBB"))  # recent r3, big r1 r2
    expected = [["AAA", "r5"], ["AAA", "r6"], ["BBB", "r1"], ["BBB", "r2"], ["BBB", "r3"], ["CCC", "r8"], ["CCC", "r9"]]
    assert warehouse.query("select ticker, run_id from runs order by 1, 2").values.tolist() == expected
    one = warehouse.query("select ticker, run_id from runs where ticker = 'AAA' order by 2").values.tolist()
    assert one == expected[:2]


def test_a_ticker_filter_opens_only_that_ticker_s_file(warehouse):
    for ticker in ("GOOG", "MSFT"):
        warehouse.write_run_table("runs", ticker, "r1", run("r1", "completed", ticker))
    warehouse.recent_file("runs", "MSFT").write_bytes(b"not parquet at all")
    assert warehouse.query("select ticker from runs where ticker = 'GOOG'")["ticker"].tolist() == ["GOOG"]
    assert warehouse.query("select ticker from runs", tickers=["GOOG"])["ticker"].tolist() == ["GOOG"]
    with pytest.raises(Exception):
        warehouse.query("select * from runs")  # the corrupt file is read only when every ticker is


def test_per_run_files_of_the_old_layout_are_read_then_folded_by_the_next_write(warehouse):
    folder = warehouse.root / "runs" / "ticker=GOOG"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"run_id": ["old1"], "ticker": ["GOOG"], "status": ["running"]}), folder / "old1.parquet")
    pq.write_table(pa.table({"run_id": ["old2"], "ticker": ["GOOG"], "status": ["completed"]}), folder / "old2.parquet")
    assert warehouse.query("select count(*) n from runs")["n"][0] == 2  # read as they are
    warehouse.write_run_table("runs", "GOOG", "old1", run("old1", "abandoned"))  # a later run marks it abandoned
    assert [p.name for p in folder.iterdir()] == ["runs.recent.parquet"]
    assert warehouse.query("select run_id, status from runs order by 1").values.tolist() == [
        ["old1", "abandoned"],
        ["old2", "completed"],
    ]


def test_latest_forecasts_keep_the_newest_night(warehouse):
    def path(as_of, value):
        return pd.DataFrame(
            [
                {
                    "run_id": f"r{value}",
                    "ticker": "GOOG",
                    "as_of": pd.Timestamp(as_of),
                    "target_date": pd.Timestamp(as_of) + pd.Timedelta(days=1),
                    "horizon": 1,
                    "forecast": float(value),
                    "served": True,
                }
            ]
        )

    assert warehouse.replace_latest(path("2013-03-01", 1))["GOOG"]
    assert not warehouse.replace_latest(path("2013-02-28", 2))["GOOG"]  # a backfill of an older night
    assert warehouse.replace_latest(path("2013-03-04", 3))["GOOG"]
    assert warehouse.query("select forecast from latest_forecasts")["forecast"].tolist() == [3.0]


def latest_path(ticker, as_of, value):
    return pd.DataFrame(
        [{"run_id": f"r{value}", "ticker": ticker, "as_of": pd.Timestamp(as_of), "horizon": 1, "forecast": value}]
    )


def test_latest_forecasts_of_every_ticker_share_one_file_and_a_ticker_replaces_only_its_rows(warehouse):
    assert warehouse.replace_latest(latest_path("GOOG", "2013-03-01", 1.0))["GOOG"]
    assert warehouse.replace_latest(latest_path("MSFT", "2013-03-01", 2.0))["MSFT"]
    assert warehouse.replace_latest(latest_path("GOOG", "2013-03-04", 3.0))["GOOG"]
    assert [p.relative_to(warehouse.root).as_posix() for p in warehouse.root.rglob("*.parquet")] == [
        "latest_forecasts/latest_forecasts.parquet"
    ]
    rows = warehouse.query("select ticker, forecast from latest_forecasts order by 1").values.tolist()
    assert rows == [["GOOG", 3.0], ["MSFT", 2.0]]
    only = warehouse.query("select ticker from latest_forecasts", tickers=["MSFT"])  # tickers= still restricts
    assert only["ticker"].tolist() == ["MSFT"]


def test_latest_forecasts_written_one_file_per_ticker_are_read_then_folded_into_the_shared_file(warehouse):
    """A warehouse written before the table was shared (latest_forecasts/ticker=T/latest_forecasts.parquet)."""
    from nightcast.arrow_tables import to_arrow

    for ticker, value in (("GOOG", 1.0), ("MSFT", 2.0)):
        folder = warehouse.root / "latest_forecasts" / f"ticker={ticker}"
        folder.mkdir(parents=True)
        frame = latest_path(ticker, "2013-03-01", value)
        pq.write_table(to_arrow("latest_forecasts", frame).drop_columns(["scale"]), folder / "latest_forecasts.parquet")
    rows = warehouse.query("select ticker, forecast, scale is null from latest_forecasts order by 1").values.tolist()
    assert rows == [["GOOG", 1.0, True], ["MSFT", 2.0, True]]  # read as it is; a missing column is null
    assert not warehouse.replace_latest(latest_path("GOOG", "2013-02-28", 3.0))["GOOG"]  # older night: kept
    assert warehouse.replace_latest(latest_path("MSFT", "2013-03-04", 4.0))["MSFT"]
    assert [p.relative_to(warehouse.root).as_posix() for p in warehouse.root.rglob("*.parquet")] == [
        "latest_forecasts/latest_forecasts.parquet"
    ]
    rows = warehouse.query("select ticker, forecast from latest_forecasts order by 1").values.tolist()
    assert rows == [["GOOG", 1.0], ["MSFT", 4.0]]


@pytest.mark.parametrize(
    "sql, kind",
    [
        ("drop view prices", "DROP"),
        ("delete from prices", "DELETE"),
        ("copy (select 1) to 'out.csv'", "COPY"),
        ("attach 'other.db'", "ATTACH"),
        ("install httpfs", "LOAD"),
        ("create table t as select 1", "CREATE"),
    ],
)
def test_query_refuses_anything_that_writes(warehouse, sql, kind, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(QueryRefused, match=f"refused a {kind} statement"):
        warehouse.query(sql)
    assert not list(tmp_path.rglob("out.csv"))


def test_query_refuses_several_statements_at_once(warehouse):
    with pytest.raises(QueryRefused, match="one statement at a time: got 2 statements"):
        warehouse.query("select 1; drop view prices")


def test_query_cannot_read_outside_the_warehouse(warehouse):
    warehouse.query("select 1")
    with pytest.raises(Exception, match="disabled by configuration|Permission"):
        warehouse.query("select * from read_csv('/etc/passwd')")


def test_a_staged_download_round_trips_and_only_incoming_files_are_discarded(warehouse, prices):
    frame = prices(5, ticker="ACME")
    staged = warehouse.stage_incoming("ACME", "k1", frame)
    assert staged.parent == warehouse.root / "incoming" / "ticker=ACME"
    pd.testing.assert_frame_equal(pd.read_parquet(staged), frame)
    warehouse.merge_prices(frame, "ACME", "sample", pd.Timestamp("2024-01-01", tz="UTC"))
    stored = next((warehouse.root / "prices").rglob("*.parquet"))
    with pytest.raises(ValueError, match="is not a staged file of this warehouse's incoming/ folder"):
        warehouse.discard_incoming(stored)
    with pytest.raises(ValueError, match="is not a staged file"):
        warehouse.discard_incoming(warehouse.root / "incoming" / ".." / stored.relative_to(warehouse.root))
    assert stored.exists()
    warehouse.discard_incoming(str(staged))
    assert not staged.exists()
    warehouse.discard_incoming(staged)  # already gone: nothing to do


def test_partition_refuses_unsafe_tickers(warehouse):
    with pytest.raises(ValueError, match="not a valid symbol"):
        warehouse.partition("prices", "../../etc")


def test_root_comes_from_setting_then_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NIGHTCAST_WAREHOUSE", str(tmp_path / "env"))
    assert resolve_root(None) == tmp_path / "env"
    assert resolve_root(str(tmp_path / "s")) == tmp_path / "s"
    monkeypatch.delenv("NIGHTCAST_WAREHOUSE")
    monkeypatch.chdir(tmp_path)
    assert resolve_root(None) == tmp_path / "warehouse"


def two_candidates(warehouse, prices):
    """Closes 100, 102, 101, 104, 103, 105 (2024-01-01..08) and two candidates' paths as of 2024-01-02."""
    frame = prices(6, ticker="GOOG", start="2024-01-01")
    frame["close"] = [100.0, 102.0, 101.0, 104.0, 103.0, 105.0]
    warehouse.merge_prices(frame, "GOOG", "sample", pd.Timestamp("2024-02-01", tz="UTC"))
    base = {
        "run_id": "r1",
        "ticker": "GOOG",
        "as_of": pd.Timestamp("2024-01-02"),
        "scale": 2.0,
        "target_date": pd.to_datetime(["2024-01-03", "2024-01-04", "2024-01-10"]),
        "horizon": [1, 2, 3],
    }
    served = pd.DataFrame(
        {
            **base,
            "candidate": "ets",
            "served": True,
            "forecast": [103.0, 100.0, 99.0],
            "lower_80": [101.5, 99.0, 95.0],
            "upper_80": [104.0, 103.0, 103.0],
            "lower_95": [100.0, 98.0, 94.0],
            "upper_95": [105.0, 105.0, 104.0],
            "model_version": "ets-r1",
        }
    )
    shadow = pd.DataFrame(
        {**base, "candidate": "naive", "served": False, "forecast": 102.0, "model_version": "naive-r1"}
    )
    warehouse.write_run_table("forecasts", "GOOG", "r1", pd.concat([served, shadow]))


def test_realized_forecasts_score_each_forecast_against_naive(warehouse, prices):
    two_candidates(warehouse, prices)
    out = warehouse.query(
        "select horizon, actual, error, ape, naive, naive_error, scaled_error, inside_80, inside_95 "
        "from realized_forecasts where candidate = 'ets' order by horizon"
    )
    assert out["horizon"].tolist() == [1, 2]  # 2024-01-10 has no close yet: not realized
    assert out[["actual", "error", "naive", "naive_error", "scaled_error"]].values.tolist() == [
        [101.0, 2.0, 102.0, 1.0, 1.0],
        [104.0, -4.0, 102.0, -2.0, 2.0],
    ]
    assert out["ape"].tolist() == pytest.approx([2 / 101 * 100, 4 / 104 * 100])
    assert out["inside_80"].tolist() == [False, False] and out["inside_95"].tolist() == [True, True]


def test_interval_scores_beside_naives_own_in_every_accuracy_view(warehouse, prices):
    """ets h1: the close 101 is 0.5 below its 80% interval [101.5, 104]: 2.5 + 10 x 0.5 = 7.5; inside its 95%
    [100, 105]: 5. h2: 1 above [99, 103]: 4 + 10 = 14; inside [98, 105]: 7. Naive's own intervals of the
    same run (80% [100, 104] and [99, 105], 95% [99, 105] and [97, 107]) hold both closes: their widths."""
    two_candidates(warehouse, prices)
    frame = warehouse.query("select * from forecasts where run_id = 'r1'")
    naive = frame["candidate"] == "naive"
    frame.loc[naive, ["lower_80", "upper_80", "lower_95", "upper_95"]] = [
        [100.0, 104.0, 99.0, 105.0],
        [99.0, 105.0, 97.0, 107.0],
        [98.0, 106.0, 95.0, 109.0],
    ]
    warehouse.write_run_table("forecasts", "GOOG", "r1", frame)
    columns = "interval_score_80, interval_score_95, naive_interval_score_80, naive_interval_score_95"
    expected = [[7.5, 5.0, 4.0, 6.0], [14.0, 7.0, 6.0, 10.0]]
    for view, where in (("forecast_accuracy", "candidate = 'ets'"), ("served_accuracy", "true")):
        got = warehouse.query(f"select {columns} from {view} where {where} order by horizon")
        np.testing.assert_allclose(got.to_numpy(float), expected, err_msg=view)
    board = warehouse.query(f"select {columns} from leaderboard where candidate = 'naive' order by horizon")
    np.testing.assert_allclose(board.to_numpy(float), [[4.0, 6.0, 4.0, 6.0], [6.0, 10.0, 6.0, 10.0]])


def test_accuracy_views_per_candidate_served_and_ranked(warehouse, prices):
    two_candidates(warehouse, prices)
    ets = warehouse.query("select * from forecast_accuracy where candidate = 'ets' order by horizon")
    assert ets["mae"].tolist() == [2.0, 4.0] and ets["mase"].tolist() == [1.0, 2.0]
    assert ets["naive_mae"].tolist() == [1.0, 2.0] and ets["coverage_95"].tolist() == [1.0, 1.0]
    assert ets["direction"].tolist() == [0.0, 0.0] and ets["width_80"].tolist() == [2.5, 4.0]
    naive = warehouse.query("select direction, coverage_80 from forecast_accuracy where candidate = 'naive'")
    assert naive["direction"].isna().all() and naive["coverage_80"].isna().all()  # no call, no interval
    served = warehouse.query("select horizon, n, mae from served_accuracy order by horizon")
    assert served.values.tolist() == [[1, 1, 2.0], [2, 1, 4.0]]
    board = warehouse.query("select candidate, rank from leaderboard where horizon = 1 order by rank")
    assert board.values.tolist() == [["naive", 1], ["ets", 2]]
    assert warehouse.query("select * from latest_forecasts").empty  # written by a night, not derived


def test_views_are_empty_on_an_empty_warehouse(warehouse):
    for view in ("realized_forecasts", "forecast_accuracy", "served_accuracy", "leaderboard", "latest_forecasts"):
        assert warehouse.query(f"select * from {view}").empty


def test_a_warehouse_written_before_candidates_still_reads(warehouse, prices):
    """Files of the old schemas (no candidate, served, intervals or scale) read with nulls in the new columns
    (r2: the old code's later rerun of the same night, so its rows are the night's realized forecasts)."""
    two_candidates(warehouse, prices)
    old = (
        pq.read_table(warehouse.recent_file("forecasts", "GOOG"))
        .select(["run_id", "ticker", "as_of", "target_date", "horizon", "forecast", "model_version"])
        .slice(0, 3)
    )
    pq.write_table(
        old.set_column(0, "run_id", pa.array(["r2"] * 3)), warehouse.root / "forecasts" / "ticker=GOOG" / "r2.parquet"
    )
    (warehouse.root / "metrics" / "ticker=GOOG").mkdir(parents=True)
    pq.write_table(
        pa.table({"run_id": ["r2"], "ticker": ["GOOG"], "model": ["simple_rnn"], "rmse": [1.5], "skill": [-0.1]}),
        warehouse.root / "metrics" / "ticker=GOOG" / "r2.parquet",
    )
    legacy = warehouse.query(
        "select candidate, served, scaled_error, inside_80 from realized_forecasts where run_id = 'r2'"
    )
    assert legacy["candidate"].tolist() == ["legacy"] * 2 and legacy["served"].all()
    assert legacy["scaled_error"].isna().all() and legacy["inside_80"].isna().all()
    metrics = warehouse.query("select model, rmse, candidate, mase from metrics where run_id = 'r2'").iloc[0]
    assert metrics["model"] == "simple_rnn" and metrics["rmse"] == 1.5 and metrics["candidate"] is None


def test_a_rerun_of_a_night_replaces_the_earlier_run_in_the_accuracy_views(warehouse, prices):
    two_candidates(warehouse, prices)
    rerun = pq.read_table(warehouse.recent_file("forecasts", "GOOG")).to_pandas()
    warehouse.write_run_table("forecasts", "GOOG", "r3", rerun.assign(run_id="r3", forecast=rerun["forecast"] + 1))
    assert len(warehouse.query("select * from forecasts")) == 2 * len(rerun)
    realized = warehouse.query("select distinct run_id from realized_forecasts")
    assert realized["run_id"].tolist() == ["r3"]
    served = warehouse.query("select horizon, n from served_accuracy order by horizon")
    assert served.values.tolist() == [[1, 1], [2, 1]]


def test_backtest_tables_round_trip_with_folds_and_a_null_overall_row(warehouse):
    days = pd.bdate_range("2024-01-01", periods=4)
    rows = pd.DataFrame(
        {
            "run_id": "b1",
            "ticker": "GOOG",
            "fold": [1, 1, 2, 2],
            "cutoff": [pd.Timestamp("2023-12-29")] * 2 + [days[1]] * 2,
            "date": days,
            "actual": [10.0, 11.0, 12.0, 13.0],
            "predicted": [10.5, 11.0, 11.5, 13.5],
            "naive": [9.0, 10.0, 11.0, 12.0],
        }
    )
    metrics = pd.DataFrame(
        {
            "run_id": "b1",
            "ticker": "GOOG",
            "fold": pd.array([1, 2, None], dtype="Int64"),
            "cutoff": [pd.Timestamp("2023-12-29").date(), days[1].date(), None],
            "n_days": [2, 2, 4],
            "rmse": [0.3, 0.5, 0.4],
            "skill": [0.7, 0.5, 0.6],
            "train_seconds": [1.0, 2.0, 3.0],
            "created_at": pd.Timestamp("2024-02-01", tz="UTC"),
        }
    )
    assert warehouse.write_run_table("backtests", "GOOG", "b1", rows) == (
        warehouse.root / "backtests" / "ticker=GOOG" / "backtests.recent.parquet"
    )
    warehouse.write_run_table("backtest_metrics", "GOOG", "b1", metrics)
    out = warehouse.query("""select b.fold, b.cutoff, count(*) as n, max(b.date) as last_day, m.rmse
                             from backtests b join backtest_metrics m using (run_id, fold)
                             group by all order by b.fold""")
    assert out["fold"].tolist() == [1, 2] and out["n"].tolist() == [2, 2] and out["rmse"].tolist() == [0.3, 0.5]
    assert [str(d)[:10] for d in out["cutoff"]] == ["2023-12-29", "2024-01-02"]
    assert all(out["last_day"] > out["cutoff"])  # every predicted day is after its fold's cut-off
    overall = warehouse.query("select n_days, cutoff, train_seconds from backtest_metrics where fold is null")
    assert overall["n_days"].tolist() == [4] and overall["cutoff"].isna().all() and overall["train_seconds"][0] == 3.0


def test_a_query_opens_only_the_tables_and_views_it_reads():
    from nightcast.readonly import tables_read
    from nightcast.views import DERIVED_VIEWS

    assert tables_read("select * from forecasts where ticker = 'A'", TABLES, DERIVED_VIEWS) == ["forecasts"]
    assert tables_read("SELECT 1 FROM Runs, prices", TABLES, DERIVED_VIEWS) == ["prices", "runs"]
    accuracy = tables_read("select * from forecast_accuracy", TABLES, DERIVED_VIEWS)
    assert {"forecast_accuracy", "realized_forecasts", "forecasts", "prices"} <= set(accuracy)
    assert accuracy.index("realized_forecasts") < accuracy.index("forecast_accuracy")  # views in definition order
    everything = list(TABLES) + list(DERIVED_VIEWS)
    assert tables_read("select * from forecastz", TABLES, DERIVED_VIEWS) == everything  # the error suggests all
    assert tables_read("select * from read_parquet('/etc/*')", TABLES, DERIVED_VIEWS) == everything
    assert tables_read("select 1 as x", TABLES, DERIVED_VIEWS) == []
    for catalog in ("show tables", "SELECT * FROM information_schema.columns", "from duckdb_views()", "show"):
        assert tables_read(catalog, TABLES, DERIVED_VIEWS) == everything, catalog  # every name is listed


def test_a_query_of_one_view_reads_the_same_rows_as_with_every_view(warehouse, prices):
    now = pd.Timestamp("2024-01-01", tz="UTC")
    warehouse.merge_prices(prices(30, ticker="GOOG"), "GOOG", "sample", now)
    sql = "select count(*) n, max(close) m from prices"
    assert warehouse.query(sql).to_dict("records") == warehouse.connect().execute(sql).df().to_dict("records")
    with pytest.raises(Exception, match="forecastz"):
        warehouse.query("select * from forecastz")


def test_each_query_sees_the_files_as_they_are_when_it_starts(warehouse):
    """One DuckDB per warehouse and process serves every query; the files are listed again for each."""
    warehouse.write_run_table("runs", "GOOG", "r1", run("r1", "completed"))
    assert warehouse.query("select count(*) n from runs")["n"][0] == 1
    warehouse.write_run_table("runs", "MSFT", "r1", run("r1", "completed", "MSFT"))
    warehouse.write_run_table("runs", "GOOG", "r2", run("r2", "completed"))
    assert warehouse.query("select ticker, count(*) n from runs group by 1 order by 1").values.tolist() == [
        ["GOOG", 2],
        ["MSFT", 1],
    ]


def test_connections_of_one_warehouse_keep_their_own_views(warehouse):
    for ticker in ("GOOG", "MSFT"):
        warehouse.write_run_table("runs", ticker, "r1", run("r1", "completed", ticker))
    goog, msft = warehouse.connect(["GOOG"]), warehouse.connect(["MSFT"])
    try:
        assert goog.execute("select distinct ticker from runs").fetchall() == [("GOOG",)]
        assert msft.execute("select distinct ticker from runs").fetchall() == [("MSFT",)]
    finally:
        goog.close()
        msft.close()
    assert warehouse.query("select count(*) n from runs")["n"][0] == 2
