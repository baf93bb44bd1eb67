import os

import pytest

# Shared helpers live in tests/helpers/ (import them from there). Re-exported here only so that test
# files written before the move keep working; new tests import from helpers.
from helpers.commands import REPO, sharebench  # noqa: F401
from helpers.configs import TINY, make_cfg  # noqa: F401


@pytest.fixture(scope="session", autouse=True)
def data_cache(tmp_path_factory):
    """One MNIST-1D cache for the whole session, away from the user's own."""
    root = tmp_path_factory.mktemp("data")
    os.environ["SHAREBENCH_DATA"] = str(root)
    return root
