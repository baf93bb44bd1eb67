import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def data_cache(tmp_path_factory):
    """One MNIST-1D cache for the whole session, away from the user's own."""
    root = tmp_path_factory.mktemp("data")
    os.environ["SHAREBENCH_DATA"] = str(root)
    return root
