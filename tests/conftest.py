import os
import subprocess
import sys
from pathlib import Path

import pytest

from sharebench.configs import compose

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def data_cache(tmp_path_factory):
    """One MNIST-1D cache for the whole session, away from the user's own."""
    root = tmp_path_factory.mktemp("data")
    os.environ["SHAREBENCH_DATA"] = str(root)
    return root


def make_cfg(*overrides: str):
    """Compose the shipped config exactly as `sharebench run` would, without running Hydra's job."""
    return compose(overrides)


TINY = (
    "dataset=synthetic",
    "dataset.shape=[1,8,8]",
    "dataset.train_size=200",
    "dataset.val_size=50",
    "dataset.test_size=50",
    "trainer.batch_size=50",
    "trainer.progress=false",
)


def sharebench(
    *args: str, cwd: Path, timeout: int = 300, env: dict | None = None, exe: str | None = None
) -> subprocess.CompletedProcess:
    """Run the installed `sharebench` command as a user would."""
    exe = exe or str(Path(sys.executable).with_name("sharebench"))
    return subprocess.run(
        [exe, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
