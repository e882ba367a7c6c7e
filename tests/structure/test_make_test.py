"""`make test` runs the suite as two groups of test folders and files: every test file is in exactly one."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def group(makefile: str, name: str) -> list[str]:
    """The paths a Makefile variable lists (continued lines joined)."""
    text = makefile.replace("\\\n", " ")
    return re.search(rf"^{name} := (.*)$", text, re.MULTILINE).group(1).split()


def files(paths: list[str]) -> list[str]:
    """The test files the paths name (a folder: every test file under it)."""
    found = []
    for path in paths:
        target = ROOT / path
        found += [str(p.relative_to(ROOT)) for p in sorted(target.rglob("test_*.py"))] if target.is_dir() else [path]
    return found


def test_the_two_groups_of_make_test_cover_every_test_file_once():
    makefile = ROOT.joinpath("Makefile").read_text()
    recipe = makefile.split("\ntest: install\n", 1)[1].split("\n\n", 1)[0]
    assert "$(SUBPROCESS_TESTS)" in recipe and "$(IN_PROCESS_TESTS)" in recipe
    listed = files(group(makefile, "SUBPROCESS_TESTS")) + files(group(makefile, "IN_PROCESS_TESTS"))
    every = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("tests/**/test_*.py"))
    assert sorted(listed) == every and len(listed) == len(set(listed))
