"""The project's modules, walked once a session (#27): which packages make the product, and each module's path,
dotted name, text and syntax tree. Every structure test reads them from here, so the list of packages and the
parsing live in one place; a check's planted case hands the same functions a text or a folder of its own."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("nightcast", "tasks", "flows", "cli")
"""The product's packages, from the core up to the command line."""
PACKAGES = (*PRODUCT, "bench")
"""Every top-level package of the project, floor by floor: the product, then the benchmarks that run it."""


@dataclass(frozen=True)
class Module:
    """One Python file of the project, under root."""

    path: Path
    root: Path = ROOT

    @property
    def relative(self) -> str:
        return str(self.path.relative_to(self.root))

    @property
    def name(self) -> str:
        """The dotted name (a package's __init__.py is the package)."""
        parts = list(self.path.relative_to(self.root).with_suffix("").parts)
        return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)

    @property
    def package(self) -> str:
        """The package its relative imports start from."""
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]

    @property
    def tree(self) -> ast.Module:
        return tree(self.path)


@functools.cache
def text(path: Path) -> str:
    """A file's text, read once a session."""
    return path.read_text()


@functools.cache
def _parsed(path: Path) -> ast.Module:
    return ast.parse(text(path))


def tree(code: str | Path) -> ast.Module:
    """The syntax tree of a file (parsed once a session) or of a source text (a planted case)."""
    return _parsed(code) if isinstance(code, Path) else ast.parse(code)


@functools.cache
def modules(folders: tuple[str, ...] = PRODUCT, root: Path = ROOT) -> tuple[Module, ...]:
    """Every module under the folders of root, subfolders too: folder by folder, in path order within each."""
    return tuple(Module(p, root) for folder in folders for p in sorted((root / folder).rglob("*.py")))


def folders(root: Path = ROOT) -> tuple[str, ...]:
    """Every top-level folder of the project, discovered (hidden folders and links such as .venv left out)."""
    found = [p.name for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")]
    return tuple(sorted(found))


def top_level(root: Path = ROOT) -> tuple[Module, ...]:
    """The Python files at the top of the project, outside any folder."""
    return tuple(Module(p, root) for p in sorted(root.glob("*.py")))
