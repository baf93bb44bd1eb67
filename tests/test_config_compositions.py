"""The configs users type keep composing to the same thing when conf/ is reorganised.

tests/golden/compositions.json pins, for every model option shipped when it was written, the composed
`model` node alone and with a spectrum point, and the twin pairs `sharebench plot` makes by default.
A refactor of conf/ (e.g. a model config that becomes a composition of a base and a spectrum point)
must leave them equal. Rewrite the file only for an intended change of a config:
    python tests/test_config_compositions.py --write
"""

import json
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sharebench.configs import compose

GOLDEN = Path(__file__).with_name("golden") / "compositions.json"
SPECTRUM_POINT = "lowrank_k4"  # one point composed onto every ConvNet model


def composed(model: str, *extra: str) -> dict:
    return OmegaConf.to_container(compose([f"model={model}", *extra]).model)


def current() -> dict:
    from sharebench.compare.paired import TWINS
    from sharebench.configs import available_options

    models, points = available_options()["model"], available_options()["spectrum"]
    convnets = [m for m in models if composed(m).get("_target_") == "sharebench.models.cnn.ConvNet"]
    return {
        "models": {m: composed(m) for m in models},
        "with_spectrum": {m: composed(m, f"spectrum={SPECTRUM_POINT}") for m in convnets},
        "twins": {k: dict(sorted(v.items())) for k, v in TWINS.items()},
        "options": {"model": models, "spectrum": points},
    }


PINNED = json.loads(GOLDEN.read_text()) if GOLDEN.is_file() else {"models": {}, "with_spectrum": {}}


@pytest.mark.parametrize("model", sorted(PINNED["models"]))
def test_a_model_composes_as_it_did(model):
    assert composed(model) == PINNED["models"][model]


@pytest.mark.parametrize("model", sorted(PINNED["with_spectrum"]))
def test_a_model_with_a_spectrum_point_composes_as_it_did(model):
    assert composed(model, f"spectrum={SPECTRUM_POINT}") == PINNED["with_spectrum"][model]


def test_the_default_twin_pairs_are_as_they_were():
    """Options added since the file was written may bring pairs of their own; the pinned ones stay."""
    from sharebench.compare.paired import TWINS

    for key, pairs in PINNED["twins"].items():
        assert {a: b for a, b in TWINS[key].items() if a in PINNED["options"][key]} == pairs


if __name__ == "__main__" and "--write" in sys.argv:
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(current(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
