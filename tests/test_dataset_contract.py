"""Every shipped dataset keeps the contract written in sharebench/data/__init__.py: its `_target_`
is a module's `load`; the module's `describe`, where it has one, takes load's arguments and says what
load returns without reading data; and each torchvision dataset is one record in vision.DATASETS."""

import importlib
import inspect

import pytest
from helpers.configs import make_cfg

from sharebench import data
from sharebench.configs import available_options
from sharebench.data import vision


@pytest.mark.parametrize("name", available_options()["dataset"])
def test_a_dataset_config_names_a_load_and_its_describe_takes_loads_arguments(name):
    cfg = make_cfg(f"dataset={name}").dataset
    module_name, _, func = cfg._target_.rpartition(".")
    assert func == "load", f"dataset={name}: _target_ must end in .load"
    module = importlib.import_module(module_name)
    load_params = inspect.signature(module.load).parameters
    assert all(str(k) in load_params for k in cfg if not str(k).startswith("_")), "a key that load does not take"
    if not hasattr(module, "describe"):
        return
    params = inspect.signature(module.describe).parameters
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()), "describe must take **_ too"
    assert all(p in load_params for p in params if params[p].kind is not inspect.Parameter.VAR_KEYWORD)
    described = data.declared(cfg)  # reads no file: no dataset is present in the tests' root
    assert isinstance(described, data.DataDescription) and described.num_outputs > 0


@pytest.mark.parametrize("name", sorted(vision.DATASETS))
def test_a_torchvision_record_has_its_config_and_its_class(name):
    import torchvision.datasets

    record = vision.DATASETS[name]
    assert make_cfg(f"dataset={name}").dataset.name == name
    assert hasattr(torchvision.datasets, record.torchvision_class)
    assert vision.describe(name).input_shape == record.input_shape
