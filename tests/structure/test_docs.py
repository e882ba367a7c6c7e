"""The reference pages in docs/ are generated from the code and committed; a stale page fails here."""

import pytest

from scripts import gen_docs


@pytest.mark.parametrize("path, text", list(gen_docs.pages().items()), ids=lambda v: getattr(v, "name", "text"))
def test_committed_reference_pages_match_the_code(path, text):
    assert path.read_text() == text, f"{path.name} is stale: run `make docs-reference` and commit it"


def test_every_setting_and_table_is_on_its_page():
    from nightcast.schema import TABLES
    from nightcast.settings import Settings
    from nightcast.views import DERIVED_VIEWS

    settings, tables = gen_docs.settings_page(), gen_docs.tables_page()
    assert all(f"| `{name}` |" in settings for name in Settings.model_fields)
    assert all(f"## `{name}`" in tables for name in [*TABLES, *DERIVED_VIEWS])
