"""A built wheel, installed in a fresh venv, runs from any directory (configs ship inside it)."""

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from helpers.commands import REPO, sharebench
from helpers.configs import TINY


def test_wheel_in_fresh_venv_runs_from_any_directory(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("sharebench-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py, exe = env_dir / "bin" / "python", str(env_dir / "bin" / "sharebench")
    # pip installs the wheel and its console script; torch & co. are borrowed from the test venv
    subprocess.run(
        [py, "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True, capture_output=True
    )
    purelib = subprocess.run(
        [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # a .pth line only appends a path: the test venv's editable-install hook is not activated
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    where = subprocess.run(
        [py, "-c", "import sharebench; print(sharebench.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    ).stdout
    assert where.startswith(purelib), where  # the wheel's copy, not the repo's
    work = tmp_path / "elsewhere"
    work.mkdir()
    out = sharebench("list", cwd=work, exe=exe)
    assert out.returncode == 0 and "shared_cnn" in out.stdout, out.stderr
    out = sharebench("run", *TINY, "trainer.max_steps=2", "model=local_cnn", cwd=work, exe=exe)
    assert out.returncode == 0, out.stderr
    assert len(list((work / "results" / "runs").glob("*/*/summary.json"))) == 1
