"""Flow tests run against Prefect's temporary test server and database (see tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _harness(prefect_harness):
    yield
