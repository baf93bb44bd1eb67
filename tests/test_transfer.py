"""resnet_transfer: counts by hand, frozen BatchNorm, input adaptation, ImageNet weights through the
torch hub cache, model.pt round trip, and frozen-backbone feature caching."""

import json
import urllib.error

import pytest
import torch
import torchvision
from helpers.commands import sharebench
from helpers.configs import TINY, make_cfg
from omegaconf import OmegaConf

from sharebench import models
from sharebench.accounting import parameter_table, parameter_totals
from sharebench.errors import UserError
from sharebench.models.resnet import ResNetTransfer, imagenet_cache_file
from sharebench.records.run_dir import read_csv
from sharebench.run import experiment
from sharebench.train.feature_cache import augmentation_enabled, with_cached_features

RESNET18_TOTAL = 11_689_512  # torchvision's resnet18 with its 1000-class fc (512·1000 + 1000)
IMAGES = (
    "dataset=synthetic",
    "dataset.shape=[3,32,32]",
    "dataset.train_size=16",
    "dataset.val_size=8",
    "dataset.test_size=8",
    "trainer.batch_size=8",
    "trainer.progress=false",
    "trainer.plots=false",
)


def build(*overrides, shape=(3, 32, 32), outputs=10):
    return models.build(make_cfg("model=resnet_transfer", "model.weights=none", *overrides).model, shape, outputs)


def totals(model):
    return parameter_totals(parameter_table(model))


def test_counts_by_hand_frozen_and_fine_tuned():
    frozen = build(outputs=7)
    assert totals(frozen) == {
        "params_total": RESNET18_TOTAL - 513 * 1000 + 512 * 7 + 7,
        "params_trainable": 512 * 7 + 7,
        "params_frozen": RESNET18_TOTAL - 513 * 1000,
        "params_bytes": 4 * (RESNET18_TOTAL - 513 * 1000 + 512 * 7 + 7),
    }
    names = [name for name, _ in frozen.named_parameters()]
    assert names[:3] == ["conv1.weight", "bn1.weight", "bn1.bias"] and names[-2:] == ["fc.weight", "fc.bias"]
    assert tuple(frozen.fc.weight.shape) == (7, 512)
    tuned = build("model.freeze=false", outputs=7)
    assert totals(tuned)["params_trainable"] == totals(tuned)["params_total"] == RESNET18_TOTAL - 513 * 1000 + 3591
    assert tuple(build("model.depth=50", outputs=3).fc.weight.shape) == (3, 2048)


def test_frozen_backbone_keeps_batchnorm_in_eval_mode():
    model = build()
    model.train()
    assert model.training and model.fc.training
    assert all(not m.training for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    before = model.bn1.running_mean.clone()
    model(torch.randn(4, 3, 32, 32) * 5 + 3)
    assert torch.equal(model.bn1.running_mean, before)  # eval-mode BatchNorm does not update its statistics
    tuned = build("model.freeze=false").train()
    tuned(torch.randn(4, 3, 32, 32) * 5 + 3)
    assert tuned.bn1.training and not torch.equal(tuned.bn1.running_mean, before)


def test_grayscale_and_small_inputs_are_adapted_on_the_fly():
    model = build("model.input_size=40", shape=(1, 8, 8)).eval()
    x = torch.randn(2, 1, 8, 8)
    adapted = model.adapt(x)
    assert adapted.shape == (2, 3, 40, 40) and torch.equal(adapted[:, 0], adapted[:, 2])
    assert model(x).shape == (2, 10)
    with pytest.raises(UserError, match="1- or 3-channel images"):
        build(shape=(1, 40))


def test_imagenet_weights_load_through_torchvision_from_the_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    no_network = urllib.error.URLError("no network in tests")
    monkeypatch.setattr(torch.hub, "download_url_to_file", lambda *a, **k: (_ for _ in ()).throw(no_network))
    cache = imagenet_cache_file(18)
    assert cache == tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    with pytest.raises(UserError) as missing:
        build("model.weights=imagenet")
    assert "\n" not in str(missing.value) and str(cache) in str(missing.value)

    reference = torchvision.models.resnet18(weights=None)  # random weights with the right keys
    cache.parent.mkdir(parents=True, exist_ok=True)  # torch hub made it for the failed download
    torch.save(reference.state_dict(), cache)
    urls = []
    real_loader = torchvision.models._api.load_state_dict_from_url
    monkeypatch.setattr(
        torchvision.models._api,
        "load_state_dict_from_url",
        lambda url, *a, **k: urls.append(url) or real_loader(url, *a, **k),
    )
    model = build("model.weights=imagenet", outputs=4)
    assert urls == [torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url]  # torchvision's own loader
    assert torch.equal(model.conv1.weight, reference.conv1.weight)
    assert torch.equal(model.layer4[1].bn2.running_var, reference.layer4[1].bn2.running_var)
    assert model.fc.weight.shape == (4, 512)  # the head is new


def test_checkpoint_round_trip_trains_only_the_head_and_runs_the_backbone_once(tmp_path, monkeypatch):
    source = tmp_path / "source"
    experiment.run(
        make_cfg(*IMAGES, "model=resnet_transfer", "model.weights=none", "model.freeze=false", "trainer.max_steps=2"),
        source,
    )
    trained = torch.load(source / "model.pt", weights_only=True)
    assert trained["fc.weight"].shape == (10, 512)

    seen = []
    real_features = ResNetTransfer.features
    monkeypatch.setattr(ResNetTransfer, "features", lambda self, x: seen.append(len(x)) or real_features(self, x))
    target = tmp_path / "target"
    summary = experiment.run(
        make_cfg(
            *IMAGES,
            "model=resnet_transfer",
            f"model.weights={source}",
            "dataset.num_classes=5",
            "trainer.max_steps=12",
            "trainer.eval_every=2",
            "optim.lr=0.001",
        ),
        target,
    )
    assert seen[0] == 1  # accounting's measuring pass: one example
    assert sum(seen[1:]) == 16 + 8 + 8  # then every example through the backbone exactly once, over 6 epochs
    after = torch.load(target / "model.pt", weights_only=True)
    backbone = [k for k in trained if not k.startswith("fc.")]
    assert backbone and all(torch.equal(after[k], trained[k]) for k in backbone)  # bit for bit, BN stats too
    assert after["fc.weight"].shape == (5, 512)
    assert summary["params_trainable"] == 512 * 5 + 5
    assert summary["params_frozen"] == RESNET18_TOTAL - 513 * 1000  # the table is the whole model
    losses = [row["train_loss"] for row in read_csv(target / "metrics.csv")]
    assert float(losses[-1]) < float(losses[0])  # the head learns on the cached features


def test_no_caching_when_fine_tuning_or_augmenting():
    splits_like = object()
    tuned = build("model.freeze=false")
    assert with_cached_features(tuned, splits_like, make_cfg())[0] is tuned
    assert tuned.split_frozen() is None and build().split_frozen() is not None
    assert augmentation_enabled(OmegaConf.create({"dataset": {"augment": True}, "trainer": {}}))
    assert augmentation_enabled(OmegaConf.create({"dataset": {}, "trainer": {"augment_flip": True}}))
    assert augmentation_enabled(make_cfg("augment.translate=2")) and augmentation_enabled(make_cfg("augment.flip=true"))
    assert not augmentation_enabled(make_cfg())


def test_bad_checkpoint_and_depth_are_one_line_errors(tmp_path):
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "model.pt")
    with pytest.raises(UserError, match="does not fit resnet18"):
        build(f"model.weights={tmp_path}")
    with pytest.raises(UserError, match="no such checkpoint"):
        build(f"model.weights={tmp_path / 'missing.pt'}")
    out = sharebench("run", "model=resnet_transfer", "model.depth=19", cwd=tmp_path)
    assert out.returncode == 2 and "model.depth=19" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_every_run_saves_model_pt(tmp_path):
    summary = experiment.run(make_cfg(*TINY, "model=mlp", "trainer.max_steps=2", "trainer.plots=false"), tmp_path)
    state = torch.load(tmp_path / "model.pt", weights_only=True)
    assert set(state) == {n for n, _ in models.build(make_cfg("model=mlp").model, (1, 8, 8), 10).state_dict().items()}
    assert json.loads((tmp_path / "summary.json").read_text())["model_file"] == summary["model_file"]
    experiment.run(
        make_cfg(*TINY, "model=mlp", "trainer.max_steps=2", "trainer.plots=false", "trainer.save_model=false"),
        tmp_path / "nosave",
    )
    assert not (tmp_path / "nosave" / "model.pt").exists()


def test_cached_features_train_the_head_exactly_as_the_full_model_would(tmp_path):
    common = (*IMAGES, "model=resnet_transfer", "model.weights=none", "trainer.max_steps=4", "trainer.eval_every=2")
    cached = experiment.run(make_cfg(*common), tmp_path / "cached")
    direct = experiment.run(make_cfg(*common, "+trainer.augment=true"), tmp_path / "direct")  # turns caching off
    heads = [torch.load(tmp_path / name / "model.pt", weights_only=True)["fc.weight"] for name in ("cached", "direct")]
    assert torch.allclose(*heads, atol=1e-5)
    assert abs(cached["final_test_loss"] - direct["final_test_loss"]) < 1e-4


def test_a_checkpoint_is_checked_not_copied_when_the_checks_build_on_meta(tmp_path, recwarn):
    """`model.weights=<run dir>`: the checks' shapes-only build checks that the checkpoint fits and
    copies nothing (PyTorch warns once per tensor on a copy into meta: 120 lines for a ResNet-18)."""
    source = ResNetTransfer((1, 28, 28), 10, weights="none")
    torch.save(source.state_dict(), tmp_path / "model.pt")
    with torch.device("meta"):
        ResNetTransfer((1, 28, 28), 10, weights=str(tmp_path))
    assert not [w for w in recwarn if "meta parameter" in str(w.message)]
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "model.pt")
    with torch.device("meta"), pytest.raises(UserError, match="does not fit resnet18"):
        ResNetTransfer((1, 28, 28), 10, weights=str(tmp_path))
