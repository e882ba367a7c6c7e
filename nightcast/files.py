"""Files that a reader sees whole or not at all: write to a hidden temporary sibling, fsync, rename.

A temporary name carries its writer's process id (.name.<pid>.<uuid>.tmp), so leftovers of a writer that
died (kill -9, a crash) are recognised and swept by the next run; a live writer's are never touched.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa


def temporary_path(path: Path) -> Path:
    """A hidden sibling of path, named after this process so that leftovers of dead writers can be swept."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename into it, a new file) to disk."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def write_then_rename(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp) on a temporary sibling, fsync it, then atomically rename it over path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write Parquet so that a reader sees the old file or the whole new one, never a part."""
    import pyarrow.parquet as pq

    write_then_rename(path, lambda tmp: pq.write_table(table, tmp))


def write_folder_atomic(folder: Path, write: Callable[[Path], None]) -> None:
    """Fill a hidden temporary folder with write(tmp), fsync every file in it, then rename it to folder.

    A reader (or the registry) sees no folder or the whole one; a writer killed half-way leaves only the
    hidden temporary folder, which sweep removes once its process is gone."""
    if folder.exists():
        raise FileExistsError(f"{folder} exists already; stored folders are never rewritten")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(folder)
    try:
        tmp.mkdir()
        write(tmp)
        for path in tmp.rglob("*"):
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        fsync_folder(tmp)
        os.rename(tmp, folder)
        fsync_folder(folder.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive inter-process lock on the file at path (created with its folder when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(folders: list[Path], deep: bool = True) -> list[Path]:
    """Remove temporary files and folders under folders (directly in them when not deep) whose writer
    process is gone; returns them."""
    removed = []
    for folder in folders:
        for tmp in list(folder.rglob(".*.tmp") if deep else folder.glob(".*.tmp")) if folder.exists() else ():
            parts = tmp.name.rsplit(".", 3)
            if len(parts) == 4 and parts[1].isdigit() and not pid_alive(int(parts[1])):
                shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
                removed.append(tmp)
    return removed
