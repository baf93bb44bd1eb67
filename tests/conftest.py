import logging
import os
import sys

import pytest


def pytest_configure(config):
    """`-n auto` hands tests out one by one (pytest-xdist's --dist load); hand them out by file
    instead (loadfile), so that a module's expensive module-scoped fixture (a trained sweep) is built
    once, on one worker, not once per worker. Set before the workers start; any other --dist asked
    for is kept."""
    if getattr(config.option, "dist", None) == "load":
        config.option.dist = "loadfile"


@pytest.fixture(scope="session", autouse=True)
def data_cache(tmp_path_factory):
    """One MNIST-1D cache for the whole session, away from the user's own."""
    root = tmp_path_factory.mktemp("data")
    os.environ["SHAREBENCH_DATA"] = str(root)
    return root


@pytest.fixture(autouse=True)
def restore_logging():
    """A test that runs the Hydra app in this process leaves Hydra's job logging configured (handlers
    on files of its tmp dir, which a later test may have removed): put the loggers back as they were."""
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in ("sharebench", "sharebench.detail", "hydra"))]
    before = {lg.name: (list(lg.handlers), lg.level, lg.propagate) for lg in loggers}
    yield
    for lg in loggers:
        handlers, level, propagate = before[lg.name]
        for handler in lg.handlers:
            if handler not in handlers:
                handler.close()
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate


@pytest.fixture(autouse=True)
def restore_threads():
    """A run in this process sets torch's thread count for the whole process (train/threads.py): put it
    back, so that no test depends on which tests ran before it on the same xdist worker."""
    torch = sys.modules.get("torch")  # not imported here: some tests check what a command imports
    before = torch.get_num_threads() if torch else None
    yield
    if before is not None and torch.get_num_threads() != before:
        torch.set_num_threads(before)
