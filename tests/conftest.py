import logging
import os

import pytest


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: absent when it is not installed
def pytest_xdist_make_scheduler(config, log):
    """`-n auto` hands tests out one by one (--dist load); keep each `xdist_group` on one worker
    instead (loadgroup), so that a module's expensive module-scoped fixture (a trained sweep) is
    built once, not once per worker. Any other --dist asked for is kept."""
    if config.getoption("dist") == "load":
        from xdist.scheduler import LoadGroupScheduling

        return LoadGroupScheduling(config, log)
    return None


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
