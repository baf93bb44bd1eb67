"""What the option files declare about sharing (conf/spectrum/*, conf/model/*): twins that exist and
differ from their shared model in the sharing options only, and baselines that are spectrum points."""

import pytest
import yaml
from omegaconf import OmegaConf

from sharebench import configs

# ConvNet options that say how a layer shares; everything else is topology
SHARING_KEYS = {
    "layer",
    "rank",
    "combining",
    "tile",
    "tie_strength",
    "share_every",
    "untie_at",
    "untie_to",
    "match_params_of",
    "lasso_strength",
    "lasso_beta",
}
OPTIONS = configs.available_options()


def model_node(*overrides: str) -> dict:
    return OmegaConf.to_container(configs.compose(overrides).model)


@pytest.mark.parametrize("group", ["model", "spectrum"])
def test_every_declared_twin_is_an_option_of_its_group_and_shares_nothing(group):
    pairs = configs.twins()[group]
    assert pairs, f"no {group} declares a twin"
    for shared, twin in pairs.items():
        assert shared in OPTIONS[group] and twin in OPTIONS[group]
        assert twin not in pairs, f"{group} {twin} is a twin, yet has a twin of its own"


@pytest.mark.parametrize("shared,twin", sorted(configs.twins()["model"].items()))
def test_a_model_and_its_twin_differ_in_the_sharing_options_only(shared, twin):
    a, b = model_node(f"model={shared}"), model_node(f"model={twin}")
    if a["_target_"] != "sharebench.models.cnn.ConvNet":  # e.g. rnn → unrolled_rnn: another class, same keys
        assert a.keys() == b.keys()
        return
    assert b["layer"] == "local"
    assert {k: v for k, v in a.items() if k not in SHARING_KEYS} == {
        k: v for k, v in b.items() if k not in SHARING_KEYS
    }


def test_a_model_built_from_a_spectrum_point_composes_as_base_plus_point():
    built = {m: configs.model_parts(m) for m in OPTIONS["model"]}
    points = {m: p for m, (base, p) in built.items() if base != m}
    assert points["lowrank_cnn"] == "lowrank_k2" and points["local_cnn"] == "local"
    for model, point in points.items():
        own = set(yaml.safe_load(configs._option_text("model", model))) - {"defaults"}  # keys it sets itself
        node, combined = model_node(f"model={model}"), model_node(f"model={built[model][0]}", f"spectrum={point}")
        assert {k: v for k, v in node.items() if k not in own} == {k: v for k, v in combined.items() if k not in own}


def test_baselines_are_spectrum_points_that_share():
    baselines = configs.spectrum_baselines()
    # the points beside the shared → unshared line today; the dense ones are set against plain dense
    assert baselines == {"wide_conv", "untie_300", "dense_blasso", "dense_from_conv"}
    assert baselines <= set(configs.twins()["spectrum"])


def test_only_the_head_comment_lines_declare(tmp_path, monkeypatch):
    (tmp_path / "spectrum").mkdir()
    (tmp_path / "spectrum" / "x.yaml").write_text(
        "# @package model\n# @twin: local\n# prose: not a declaration\n# @baseline: true\nlayer: conv\n# @twin: dense\n"
    )
    monkeypatch.setattr(configs.resources, "files", lambda module: tmp_path)
    assert configs.declared("spectrum", "x") == {"twin": "local", "baseline": True}
