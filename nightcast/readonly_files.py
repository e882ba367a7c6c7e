"""The warehouse's files as DuckDB sees them on the read-only path: an fsspec file system that can only read.

DuckDB's own Parquet reader (filter and projection pushdown, hive pruning by ticker, no pyarrow.dataset
and so no pandas at start-up) reads the tables through `WarehouseFiles`, registered on the connection
under the protocol nightcast://, while DuckDB's local file system stays disabled. Every path, with `..`
resolved and every symbolic link followed, must lie inside the warehouse (a link leading out is refused);
every file is opened for reading only; every call that would create, change or delete anything raises
PermissionError.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import glob
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fsspec import AbstractFileSystem

from nightcast.run_tables import RECENT_SUFFIX

if TYPE_CHECKING:  # pragma: no cover
    pass

PROTOCOL = "nightcast"
PREFIX = f"{PROTOCOL}://"
_WILDCARDS = frozenset("*?[")


def real_path(local: str) -> str:
    """Where a local path leads, every symbolic link followed: on Linux the name the kernel gives the
    descriptor it opens for the path (three system calls, where os.path.realpath makes one per component of
    the path in Python: half of a 500-ticker scan's time went there); os.path.realpath where that is not to
    be had (another system, or no such file)."""
    try:
        fd = os.open(local, os.O_PATH | os.O_CLOEXEC)
    except (OSError, AttributeError):  # no such file, or no O_PATH (not Linux)
        return os.path.realpath(local)
    try:
        return os.readlink(f"/proc/self/fd/{fd}").removesuffix(" (deleted)")
    except OSError:  # no /proc
        return os.path.realpath(local)
    finally:
        os.close(fd)


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise PermissionError("the warehouse is read-only here")


class WarehouseFiles(AbstractFileSystem):
    """Read-only access to the files under one folder, for DuckDB (`connection.register_filesystem`)."""

    protocol = (PROTOCOL,)
    cachable = False
    root_marker = "/"

    def __init__(self, root: str | os.PathLike[str]):
        super().__init__()
        self.root = os.path.realpath(root)
        self.listed: dict[str, list[str]] = {}
        """The files of the views' patterns, as the warehouse listed them when it made the views: DuckDB lists
        a view's files each time it binds it. Any other pattern is listed when asked."""

    def inside(self, local: str) -> bool:
        """Whether a local path, and what its symbolic links lead to, lie inside the warehouse."""
        return all(p == self.root or p.startswith(self.root + os.sep) for p in (local, real_path(local)))

    def local(self, path: str) -> str:
        """The local path of a nightcast:// path (`..` resolved); PermissionError outside the warehouse, or
        when a symbolic link on the way leads outside it."""
        local = os.path.normpath(path.removeprefix(PREFIX))
        if not self.inside(local):
            raise PermissionError(f"{path} lies outside the warehouse")
        return local

    def glob(self, path: str, **kwargs: Any) -> list[str]:
        local = self.local(path)
        if os.path.exists(local) or not _WILDCARDS & set(local):
            return [local] if os.path.exists(local) else []
        if local in self.listed:
            return self.listed[local]
        return sorted(p for p in glob.glob(local) if self.inside(p))  # no match through a link leading out

    def exists(self, path: str, **kwargs: Any) -> bool:
        return os.path.exists(self.local(path))

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        local = self.local(path)
        status = os.stat(local)
        kind = "directory" if os.path.isdir(local) else "file"
        return {"name": local, "size": status.st_size, "type": kind, "mtime": status.st_mtime}

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Sequence[Any]:
        local = self.local(path)
        names = sorted(p for p in (os.path.join(local, n) for n in os.listdir(local)) if self.inside(p))
        return [self.info(n) for n in names] if detail else names

    def size(self, path: str) -> int:
        return os.path.getsize(self.local(path))

    def modified(self, path: str) -> dt.datetime:
        return dt.datetime.fromtimestamp(os.path.getmtime(self.local(path)), tz=dt.UTC)

    def unstrip_protocol(self, name: str) -> str:
        return PREFIX + name.removeprefix(PREFIX)

    def url(self, local: str) -> str:
        """The address a view reads a local path (or pattern) of the warehouse by: nightcast://<path>."""
        return PREFIX + local

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> PositionalReader:
        if mode != "rb":
            raise PermissionError(f"the warehouse is read-only here: cannot open {path} with mode {mode!r}")
        return PositionalReader(self.local(path))

    # Everything that would create, change or delete a file or folder.
    _open = _refuse
    mkdir = makedirs = rm = rm_file = rmdir = _rm = mv = move = rename = touch = _refuse
    cp_file = copy = put = put_file = pipe = pipe_file = write_bytes = write_text = _refuse


class PositionalReader:
    """A file open for reading whose position is kept per thread. DuckDB reads a range as seek(offset) then
    read(n), two calls, and may read one handle from several threads: with one shared position a thread's
    read could start where another thread's seek left it."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size
        self.local = threading.local()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.tell(), os.SEEK_END: self.size}[whence]
        self.local.position = base + offset
        return self.local.position

    def tell(self) -> int:
        return getattr(self.local, "position", 0)

    def read(self, size: int = -1) -> bytes:
        start = self.tell()
        data = os.pread(self.fd, self.size - start if size is None or size < 0 else size, start)
        self.local.position = start + len(data)
        return data

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    __del__ = close  # DuckDB drops some handles without closing them


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


DUCKDB_TYPES = {
    "string": "VARCHAR",
    "bool": "BOOLEAN",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "double": "DOUBLE",
    "date32[day]": "DATE",
    "timestamp[us, tz=UTC]": "TIMESTAMPTZ",
}
"""The DuckDB type of each Arrow type the table schemas use (nightcast/schema.py)."""


def empty_table(table: str) -> str:
    """A typed empty SELECT of a table's schema (a subquery: the connection's catalog lists only the views),
    written without pyarrow-to-DuckDB registration, which imports pandas."""
    from nightcast.schema import TABLES

    columns = ", ".join(f'CAST(NULL AS {DUCKDB_TYPES[str(f.type)]}) AS "{f.name}"' for f in TABLES[table])
    return f"(SELECT {columns} WHERE false)"


def parquet_scan(urls: list[str], table: str, columns: Sequence[str], partitioned: bool, legacy: bool) -> str:
    """A SELECT of the table's columns, in order, from DuckDB's Parquet reader over urls (hive partitioning by
    ticker when partitioned, so that `where ticker = ...` opens that ticker's files alone). With legacy files
    (which may lack columns) the files are read by name, and with the empty table of the schema, so that a
    missing column reads as null; DuckDB then reads every file's schema first."""
    hive = "true, hive_types={'ticker': 'VARCHAR'}, hive_types_autocast=false" if partitioned else "false"
    names = ", ".join(f'"{c}"' for c in columns)
    source = f"read_parquet([{', '.join(sql_text(u) for u in urls)}], hive_partitioning={hive}"
    if legacy:
        return f"SELECT {names} FROM (FROM {source}, union_by_name=true) UNION ALL BY NAME FROM {empty_table(table)})"
    return f"SELECT {names} FROM {source})"


def tiered_scan(big: str, others: str) -> str:
    """The rows of the big files' SELECT and those of the others' (recent or per-run files) whose run the big
    file of their ticker does not hold: a fold writes the big file before it empties the recent one.

    The runs found in both are looked up by joining the others' (few) rows to the big files, not by listing
    the big files' runs: DuckDB then builds its hash table on the others and pushes their smallest and largest
    ticker and run_id into the big files' scan as filters, so that it skips every ticker without other files
    and every row group whose runs all sort before them (run ids sort by time: a night's runs come after the
    fold's) instead of reading and de-duplicating every folded run. (Left joins rather than NOT EXISTS, so
    that a filter on the ticker prunes the big files on every side.)"""
    found = (
        f"SELECT DISTINCT r.ticker, r.run_id FROM ({others}) AS r "
        f"JOIN ({big}) AS b ON b.ticker = r.ticker AND b.run_id = r.run_id"
    )
    return (
        f"SELECT * FROM ({big}) UNION ALL SELECT o.* FROM ({others}) AS o "
        f"LEFT JOIN ({found}) AS d ON d.ticker = o.ticker AND d.run_id = o.run_id WHERE d.run_id IS NULL"
    )


def partitioned_scan(
    table: str, columns: list[str], paths: list[str], folder: str, tickers: list[str] | None, files: WarehouseFiles
) -> str:
    """The SELECT of a table kept one folder per ticker (`folder`/ticker=T/), over paths (its files, of the
    given tickers only when given): the big files, and the recent and per-run files but for rows whose run
    a big file holds. Each is read by pattern, per ticker or for all, with files.listed set to paths, so that
    DuckDB binding the view again asks for no new listing."""
    big, recent = f"/{table}.parquet", f"/{table}{RECENT_SUFFIX}"
    legacy = [files.url(p) for p in paths if not p.endswith((big, recent))]
    from nightcast.schema import ADDED_LATER

    evolved = table in ADDED_LATER  # a big or recent file of an older version may lack columns too

    def urls(name: str) -> list[str]:
        patterns = [f"{folder}/ticker={t}{name}" for t in tickers or ["*"]]
        for pattern in patterns:
            files.listed[pattern] = sorted(p for p in paths if fnmatch.fnmatchcase(p, pattern))
        return [files.url(pattern) for pattern in patterns if files.listed[pattern]]

    whole, others = urls(big), urls(recent) + legacy
    if not others or not whole:
        return parquet_scan(whole or others, table, columns, True, bool(legacy) or evolved)
    scans = (
        parquet_scan(whole, table, columns, True, evolved),
        parquet_scan(others, table, columns, True, bool(legacy) or evolved),
    )
    return tiered_scan(*scans) if "run_id" in columns else " UNION ALL ".join(scans)
