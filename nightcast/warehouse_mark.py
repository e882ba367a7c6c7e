"""Which folders are nightcast warehouses: the ones nightcast marked by writing to them.

Every write to a warehouse takes a lock (`Warehouse.lock`: a night, a backfill, the nightly, `nightcast
compact`) or stages prices (`Warehouse.stage_incoming`), and each first writes MARKER in the warehouse's
folder if it is not there. Before anything is served from a folder (`Warehouse.connect`, so `nightcast
query` and every query from Python), the folder must be a warehouse:

- it holds MARKER; or
- it does not exist, or holds nothing but nightcast's layout (a warehouse written before the marker existed,
  or one whose first night failed before its first write): every entry of its top level, if any, is a
  table, models/, plots/, quarantine/, data_docs/, incoming/, .locks/ or README.md (the checkout's
  warehouse/ comes with one). Its next write marks it.

Anything else (`/`, a home folder with its dotfiles, a project folder) is refused with one line naming the
rule, and nothing in it is read.
"""

from __future__ import annotations

import os
from pathlib import Path

from nightcast.errors import ExpectedFailure
from nightcast.schema import TABLES

MARKER = "nightcast-warehouse.json"
"""The file nightcast writes in a warehouse's folder on its first write (JSON, as every non-table file it
keeps: a warehouse holds Parquet, Keras, JSON and PNG files alone)."""
MARKER_TEXT = '{"nightcast": "warehouse", "note": "nightcast writes here; nightcast query serves this folder"}\n'
LAYOUT = frozenset({*TABLES, "models", "plots", "quarantine", "data_docs", "incoming", ".locks", "README.md"})
"""Every name at the top level of a warehouse written before the marker (the checkout's warehouse/ folder
comes with a README.md)."""


class NotAWarehouse(ExpectedFailure, ValueError):
    """A folder asked to be served as a warehouse that nightcast did not write."""


def write_marker(root: Path) -> None:
    """Mark root as a warehouse (once: an existing marker is left as it is)."""
    marker = root / MARKER
    if marker.exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    try:
        with open(marker, "x", encoding="utf-8") as out:
            out.write(MARKER_TEXT)
    except FileExistsError:  # another writer marked it first
        pass


def is_warehouse(root: Path) -> bool:
    """Whether root may be served: marked, missing, or with nothing but nightcast's layout (empty included)."""
    if (root / MARKER).is_file():
        return True
    try:
        names = set(os.listdir(root))
    except (FileNotFoundError, NotADirectoryError):
        return not root.exists()
    return names <= LAYOUT


def check_warehouse(root: Path) -> None:
    """Raise NotAWarehouse (one line, naming the rule) unless root may be served."""
    if not is_warehouse(root):
        raise NotAWarehouse(
            f"{root} is not a nightcast warehouse: a warehouse holds {MARKER} (written by nightcast's first "
            "write there) or only nightcast's tables and folders; give --warehouse"
        )
