"""torchvision datasets and image folders, read from genuine files written here, through torchvision.
That each loads what its describe() declares is in test_every_option.py."""

import pytest
import torch
from helpers import datafiles
from helpers.commands import sharebench
from helpers.configs import make_cfg

from sharebench import data
from sharebench.data import folder, vision
from sharebench.errors import UserError


@pytest.mark.parametrize(
    "name", [name for name, record in vision.DATASETS.items() if record.files == vision.MNIST_FILES]
)
def test_mnist_family_reads_idx_files(tmp_path, name):
    arrays = datafiles.write_mnist(tmp_path, folder=vision.DATASETS[name].folder.split("/")[0])
    splits = vision.load(name, str(tmp_path), download=False, val_size=0)
    assert splits.input_shape == (1, 28, 28) and splits.train[0].dtype == torch.uint8 and splits.num_outputs == 10
    assert torch.equal(splits.train[0][:, 0], torch.from_numpy(arrays["train"][0]))
    assert torch.equal(splits.test[1], torch.from_numpy(arrays["test"][1]).long())


def test_emnist_balanced_is_read_upright(tmp_path):
    arrays = datafiles.write_mnist(tmp_path, folder="EMNIST", prefix="emnist-balanced", classes=47, n_train=94)
    splits = vision.load("emnist", str(tmp_path), download=False, val_size=0)
    assert splits.num_outputs == 47
    # the published files store each letter transposed; we undo that
    assert torch.equal(splits.train[0][:, 0], torch.from_numpy(arrays["train"][0]).transpose(1, 2))


@pytest.mark.parametrize("hundred", [False, True])
def test_cifar_reads_python_batches(tmp_path, hundred):
    arrays = datafiles.write_cifar(tmp_path, hundred=hundred)
    name = "cifar100" if hundred else "cifar10"
    splits = vision.load(name, str(tmp_path), download=False, check_md5=False, val_size=0)
    assert splits.input_shape == (3, 32, 32) and splits.num_outputs == (100 if hundred else 10)
    expected = torch.from_numpy(arrays["train"][0]).view(-1, 3, 32, 32)  # channel planes, as published
    assert torch.equal(splits.train[0], expected)
    assert torch.equal(splits.test[1], torch.from_numpy(arrays["test"][1]).long())


def test_cifar_files_that_fail_the_checksum_name_the_fix(tmp_path):
    datafiles.write_cifar(tmp_path)
    vision.load("cifar10", str(tmp_path), download=False, check_md5=False, val_size=0)  # cached, unchecked
    with pytest.raises(UserError, match="checksums.*dataset.check_md5=false"):
        vision.load("cifar10", str(tmp_path), download=False)


def test_svhn_reads_mat_files(tmp_path):
    pytest.importorskip("scipy")
    arrays = datafiles.write_svhn(tmp_path)
    splits = vision.load("svhn", str(tmp_path), download=False, check_md5=False, val_size=0)
    assert torch.equal(splits.train[0], torch.from_numpy(arrays["train"][0]))
    assert torch.equal(splits.train[1], torch.from_numpy(arrays["train"][1]).long())  # 10 read back as 0


def test_download_true_with_files_present_stays_offline(tmp_path, monkeypatch):
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("tried the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    datafiles.write_mnist(tmp_path)
    assert vision.load("mnist", str(tmp_path), download=True, val_size=0).sizes()["train"] == 300


def test_failed_download_names_the_files_to_put_by_hand(tmp_path, monkeypatch):
    import urllib.error
    import urllib.request

    def offline(*args, **kwargs):
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(UserError, match=r"the download failed .*put train-images-idx3-ubyte"):
        vision.load("fashion_mnist", str(tmp_path), download=True)


def test_missing_files_with_download_off_name_each_file_and_folder(tmp_path):
    datafiles.write_mnist(tmp_path)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(UserError) as err:
        vision.load("mnist", str(tmp_path), download=False)
    message = str(err.value)
    assert "\n" not in message and "dataset.download=false" in message
    assert f"put t10k-labels-idx1-ubyte in {tmp_path / 'MNIST' / 'raw'}" in message


def test_missing_dataset_ends_in_one_line_from_the_command(tmp_path):
    out = sharebench(
        "run", "dataset=cifar10", f"dataset.root={tmp_path}", "dataset.download=false", cwd=tmp_path, timeout=120
    )
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert "data_batch_1" in lines[0] and "batches.meta" in lines[0] and "cifar-10-batches-py" in lines[0]


def test_image_folder_reads_pngs_and_resizes(tmp_path):
    datafiles.write_image_folder(tmp_path / "pics", per_class=10)
    splits = folder.load(str(tmp_path / "pics"), image_size=[16, 16], test_fraction=0.2, val_fraction=0.125)
    assert splits.num_outputs == 3 and splits.input_shape == (3, 16, 16)
    assert splits.sizes() == {"train": 21, "val": 3, "test": 6}
    grey = folder.load(str(tmp_path / "pics"), image_size=[16, 16], channels=1)
    assert grey.input_shape == (1, 16, 16)


def test_image_folder_with_train_and_test_subfolders(tmp_path):
    datafiles.write_image_folder(tmp_path / "pics" / "train", per_class=6)
    datafiles.write_image_folder(tmp_path / "pics" / "test", per_class=2)
    splits = folder.load(str(tmp_path / "pics"), image_size=[8, 8], val_fraction=0)
    assert splits.sizes() == {"train": 18, "val": 0, "test": 6}
    with pytest.raises(UserError, match="not a folder"):
        folder.load(str(tmp_path / "nowhere"))


def test_second_load_reads_the_cache_and_decodes_nothing(tmp_path, monkeypatch):
    """The second load gives the same tensors with decoding made impossible: it read the cache. (Not
    timed: a timing under a loaded machine's scheduler is not a test.)"""
    import PIL.Image

    datafiles.write_image_folder(tmp_path / "pics", per_class=100, size=(32, 32))
    datafiles.write_mnist(tmp_path, n_train=2000, n_test=200)
    loads = (
        lambda: folder.load(str(tmp_path / "pics"), val_fraction=0),
        lambda: vision.load("mnist", str(tmp_path), download=False, val_size=0),
    )
    firsts = [load() for load in loads]
    monkeypatch.setattr(PIL.Image, "open", lambda *a, **k: pytest.fail("an image decoded again"))
    monkeypatch.setattr(vision, "decode", lambda *a: pytest.fail("decoded again"))
    for load, first in zip(loads, firsts):
        second = load()
        assert torch.equal(first.train[0], second.train[0]) and torch.equal(first.test[1], second.test[1])


def test_a_changed_file_is_decoded_afresh(tmp_path):
    datafiles.write_mnist(tmp_path)
    before = vision.load("mnist", str(tmp_path), download=False, val_size=0)
    x, y = datafiles.images_and_labels(300, (28, 28), 10, seed=99)
    datafiles.write_idx(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte", x)
    after = vision.load("mnist", str(tmp_path), download=False, val_size=0)
    assert torch.equal(after.train[0][:, 0], torch.from_numpy(x)) and not torch.equal(after.train[0], before.train[0])


def test_train_fraction_is_class_balanced_and_fixed_by_the_seed(tmp_path):
    datafiles.write_mnist(tmp_path, n_train=1100)
    common = ("dataset=mnist", f"dataset.root={tmp_path}", "dataset.val_size=100", "dataset.train_fraction=0.1")
    a = data.load(make_cfg(*common, "seed=3").dataset)
    b = data.load(make_cfg(*common, "seed=3").dataset)
    c = data.load(make_cfg(*common, "seed=4").dataset)
    assert torch.bincount(a.train[1]).tolist() == [10] * 10
    assert torch.equal(a.train[0], b.train[0]) and not torch.equal(a.train[0], c.train[0])
    assert torch.equal(a.val[0], c.val[0])  # validation does not move with the subset
    odd = data.load(
        make_cfg("dataset=mnist", f"dataset.root={tmp_path}", "dataset.val_size=100", "dataset.train_size=37").dataset
    )
    counts = torch.bincount(odd.train[1])
    assert counts.sum() == 37 and counts.max() - counts.min() <= 1


def test_normalisation_on_the_device_uses_train_statistics(tmp_path):
    datafiles.write_cifar(tmp_path)
    raw = vision.load("cifar10", str(tmp_path), download=False, check_md5=False, val_size=50)
    ready = raw.to(torch.device("cpu"))
    x = ready.train[0]
    assert x.dtype == torch.float32
    assert torch.allclose(x.mean((0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(x.std((0, 2, 3)), torch.ones(3), atol=1e-2)
    black = raw.test[0] == 0  # a black pixel becomes `fill`, the value shifted images are padded with
    fill = torch.tensor(ready.fill).view(1, 3, 1, 1).expand_as(ready.test[0])
    assert black.any() and torch.allclose(ready.test[0][black], fill[black])
