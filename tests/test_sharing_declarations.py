"""What the option files declare about sharing (conf/spectrum/*, conf/model/*), as keys of their
`sharing` node: twins that exist and differ from their shared model in the sharing options only, and
baselines that are spectrum points."""

import pytest
import yaml
from omegaconf import OmegaConf

from sharebench import configs

# ConvNet keys that say how a layer shares (its layer and scheme), or describe it; the rest is topology
SHARING_KEYS = {"layer", "scheme", "sharing"}
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
        assert a.keys() - {"sharing"} == b.keys() - {"sharing"}
        return
    assert b["layer"] == "local"
    assert {k: v for k, v in a.items() if k not in SHARING_KEYS} == {
        k: v for k, v in b.items() if k not in SHARING_KEYS
    }


def model_parts(name: str) -> tuple[str, str]:
    """(base, spectrum point) of a model option built as `defaults: [base, /spectrum@_here_: point]`."""
    defaults = configs._option("model", name).get("defaults") or []
    point = next((e["/spectrum@_here_"] for e in defaults if isinstance(e, dict) and "/spectrum@_here_" in e), None)
    base = next((e for e in defaults if isinstance(e, str) and e != "_self_"), None)
    return (base, point) if point and base else (name, "conv")


def test_a_model_built_from_a_spectrum_point_composes_as_base_plus_point():
    built = {m: model_parts(m) for m in OPTIONS["model"]}
    points = {m: p for m, (base, p) in built.items() if base != m}
    assert points["lowrank_cnn"] == "lowrank_k2" and points["local_cnn"] == "local"
    for model, point in points.items():
        own = set(configs._option("model", model)) - {"defaults"}  # keys it sets itself
        node, combined = model_node(f"model={model}"), model_node(f"model={built[model][0]}", f"spectrum={point}")
        assert {k: v for k, v in node.items() if k not in own} == {k: v for k, v in combined.items() if k not in own}


def test_baselines_are_spectrum_points_that_share():
    baselines = configs.spectrum_baselines()
    # the points beside the shared → unshared line today; the dense ones are set against plain dense
    assert baselines == {"wide_conv", "untie_300", "dense_blasso", "dense_from_conv"}
    assert baselines <= set(configs.twins()["spectrum"])


def test_a_declaration_is_the_options_own_or_its_bases(tmp_path, monkeypatch):
    for group in configs.GROUPS:
        (tmp_path / group).mkdir()
    (tmp_path / "model" / "a.yaml").write_text("sharing:\n  twin: a_local\n  spectrum_baseline: false\n")
    (tmp_path / "model" / "b.yaml").write_text("defaults:\n  - a\n  - _self_\nsharing:\n  twin: null\n")
    (tmp_path / "model" / "c.yaml").write_text("defaults:\n  - a\n  - _self_\n")
    (tmp_path / "spectrum" / "x.yaml").write_text("# @package model\n# @twin: dense\nlayer: conv\n")
    monkeypatch.setattr(configs.resources, "files", lambda module: tmp_path)
    assert [configs.declared("model", m, "twin") for m in "abc"] == ["a_local", None, "a_local"]
    assert configs.declared("spectrum", "x", "spectrum_twin") is None  # a comment line declares nothing now
    assert configs.twins() == {"model": {"a": "a_local", "c": "a_local"}, "spectrum": {}}


# what `sharebench plot` paired and drew before the declarations were keys (when they were `# @twin:` lines)
TWINS_BEFORE = {
    "model": {
        **dict.fromkeys(
            ["shared_cnn", "dynamic_shared_cnn", "lowrank_cnn", "soft_tied_cnn", "tiled_cnn", "untie_cnn", "wide_cnn"],
            "local_cnn",
        ),
        "mnist1d_cnn": "mnist1d_local_cnn",
        "ott2020_cifar_cnn": "ott2020_cifar_local_cnn",
        "ott2020_mnist_cnn": "ott2020_mnist_local_cnn",
        "rnn": "unrolled_rnn",
    },
    "spectrum": {
        **dict.fromkeys(
            ["conv", "wide_conv", "untie_300", "tiled_2", "dynamic_1", "dynamic_10", "dynamic_100"], "local"
        ),
        **dict.fromkeys([f"lowrank_k{k}" for k in (1, 2, 4, 8)] + [f"soft_tied_1e-{k}" for k in (1, 2, 3)], "local"),
        "dense_blasso": "dense",
        "dense_from_conv": "dense",
    },
}


def test_the_keys_declare_what_the_comment_lines_did():
    assert configs.twins() == TWINS_BEFORE


@pytest.mark.parametrize("group", ["model", "spectrum"])
def test_a_composed_config_records_its_twin_and_baseline(group):
    """What compare reads from a run's config (model.sharing) is what the files declare, option by option."""
    for option in OPTIONS[group]:
        overrides = [f"model={option}"] if group == "model" else ["model=mnist1d_cnn", f"spectrum={option}"]
        sharing = configs.compose(overrides).model.get("sharing") or {}
        key = "twin" if group == "model" else "spectrum_twin"
        assert sharing.get(key) == configs.twins()[group].get(option), option
        if group == "spectrum":
            assert sharing.spectrum_baseline == (option in configs.spectrum_baselines()), option


def test_cfg_job_shows_the_twin(tmp_path):
    from helpers.commands import sharebench

    done = sharebench("run", "model=lowrank_cnn", "spectrum=wide_conv", "--cfg", "job", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    sharing = yaml.safe_load(done.stdout)["model"]["sharing"]
    assert sharing == {"twin": "local_cnn", "spectrum_twin": "local", "spectrum_baseline": True}
    assert not list(tmp_path.iterdir())  # --cfg job writes nothing
