"""Sharing schemes as config (sharebench/schemes.py, model.scheme): every shipped model and spectrum
point counts the parameters it counted when the schemes were flat ConvNet options, the older keys
(model.tile=4) still work, and a bad option is one line, exit 2, nothing written.

tests/golden/parameter_counts.json holds the totals `sharebench params` gave for these jobs with the
code before model.scheme (commit 3bad340: accounting.count_configured of each job's composed config,
tile as model.tile=…). Rewrite it only for an intended change of a model's size."""

import json
from pathlib import Path

import pytest
from helpers.commands import sharebench

from sharebench.accounting import count_configured
from sharebench.configs import compose
from sharebench.errors import OptionError
from sharebench.schemes import Conv, Local, current_overrides, option, scheme_for

PINNED = json.loads((Path(__file__).with_name("golden") / "parameter_counts.json").read_text())


def overrides_of(job: str) -> list[str]:
    """`model=tiled_cnn tile=4` → ["model=tiled_cnn", "model.tile=4"] (the older key, as published)."""
    return [w if "=" in w and not w.startswith("tile=") else f"model.{w}" for w in job.split()]


@pytest.mark.parametrize("job", sorted(PINNED))
def test_every_shipped_model_and_spectrum_point_counts_as_before(job):
    cfg = compose(current_overrides(overrides_of(job)))
    assert count_configured(cfg)[2] == PINNED[job]


def test_the_older_keys_are_todays():
    assert current_overrides(["model.tile=1,2,4", "++model.tie_strength=0.1", "~model.untie_at", "seed=1"]) == [
        "model.scheme.tile=1,2,4",
        "++model.scheme.tie_strength=0.1",
        "~model.scheme.untie_at",
        "seed=1",
    ]
    assert current_overrides(["model.tiles=2", "model.base.tile=2", "model.layer=local"]) == [
        "model.tiles=2",
        "model.base.tile=2",
        "model.layer=local",
    ]


def test_one_place_checks_a_scheme():
    assert scheme_for("local", {"tie_strength": 0.1, "rank": 2}) == Local(tie_strength=0.1)  # rank 2: the default
    assert scheme_for("conv", None) == Conv()
    with pytest.raises(OptionError, match=r"model.scheme.tile=4 needs model.layer=tiled \(got local\)"):
        scheme_for("local", {"tile": 4})
    with pytest.raises(OptionError, match="model.scheme.tiles is no layer's option"):
        scheme_for("tiled", {"tiles": 4})
    with pytest.raises(OptionError, match="model.scheme.untie_to='local2' is not valid"):
        scheme_for("conv", {"untie_to": "local2"})


def test_a_record_is_read_in_either_form():
    assert option({"model.scheme.tile": 4}, "tile") == 4
    assert option({"model.tile": 8}, "tile") == 8  # a record made before model.scheme
    assert option({}, "combining") == "full"


@pytest.mark.parametrize(
    "args,line",
    [
        (["model=tiled_cnn", "model.scheme.tile=0"], "model.scheme.tile=0 is not valid"),
        (["model=shared_cnn", "++model.tie_strength=0.1"], "model.scheme.tie_strength=0.1 needs model.layer=local"),
        (["model=untie_cnn", "model.untie_to=local2"], "model.scheme.untie_to='local2' is not valid"),
        (["model=tiled_cnn", "model.scheme.tile=4", "spectrum=local"], "model.scheme.tile=4 needs model.layer=tiled"),
    ],
)
def test_a_bad_scheme_option_is_one_line(tmp_path, args, line):
    done = sharebench("run", *args, "trainer.threads=1", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith(f"sharebench: error: {line}"), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not list(tmp_path.iterdir())


def test_a_published_command_still_runs_its_keys(tmp_path):
    done = sharebench("params", "-m", "model=tiled_cnn", "model.tile=1,40", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "model.scheme.tile=1" in done.stdout and "model.scheme.tile=40" in done.stdout
