"""`make test` runs the suite as two groups of test folders: every folder with tests is in exactly one."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_two_groups_of_make_test_cover_every_test_folder_once():
    recipe = ROOT.joinpath("Makefile").read_text().split("\ntest: install\n", 1)[1].split("\n\n", 1)[0]
    named = re.findall(r"pytest((?: tests/\w+)+)", recipe)
    assert len(named) == 2, recipe
    folders = [folder for group in named for folder in group.split()]
    with_tests = sorted(str(p.parent.relative_to(ROOT)) for p in ROOT.glob("tests/*/test_*.py"))
    assert sorted(folders) == sorted(set(with_tests)) and len(folders) == len(set(folders))
    assert not list(ROOT.glob("tests/test_*.py"))  # a test file at the top would be in neither group
