"""Each model option is checked once, by the code that owns it (its constructor or layer); the checks
before a run ask that owner by building on the meta device, so both say the same one line."""

import pytest
import torch
from helpers.configs import make_cfg

from sharebench import models
from sharebench.checks.arguments import check_run_args
from sharebench.configs import RunArgs
from sharebench.errors import OptionError, UserError
from sharebench.train.schedules import SCHEDULES, make_scheduler

BAD = [  # (overrides, what the one line names)
    (["model=shared_cnn", "model.pool=maxx"], "model.pool='maxx' is not valid"),
    (["model=tiled_cnn", "model.scheme.tile=0"], "model.scheme.tile=0 is not valid"),
    (["model=rnn", "model.cell=foo"], "model.cell='foo' is not valid"),
    (["model=rnn", "model.hidden=[8]"], "model.hidden=[8] is not valid"),
    (["model=dynamic_net", "model.max_reuse=-1"], "model.max_reuse=-1 is not valid"),
    (["model=dynamic_net", "model.hidden=0"], "model.hidden=0 is not valid"),
    (["model=mlp", "model.hidden=[0]"], "model.hidden=[0] is not valid"),
    (["model=lowrank_cnn", "model.scheme.rank=0"], "model.scheme.rank=0 is not valid"),
    (["model=lowrank_cnn", "model.scheme.combining=row"], "model.scheme.combining='row' is not valid for 1-D inputs"),
]


@pytest.mark.parametrize("overrides,needle", BAD)
def test_the_owner_and_the_checks_say_the_same_line(overrides, needle):
    with pytest.raises(OptionError) as owner, torch.device("meta"):
        models.build(make_cfg(*overrides).model, (1, 40), 10)
    with pytest.raises(UserError) as checks:
        check_run_args(RunArgs(overrides))
    assert str(checks.value) == str(owner.value) and needle in str(owner.value) and "\n" not in str(owner.value)


@pytest.mark.parametrize("overrides,needle", BAD[:3])
def test_options_are_checked_for_a_dataset_that_declares_no_shape(overrides, needle, tmp_path):
    with pytest.raises(UserError, match=needle.replace("[", r"\[")):
        check_run_args(RunArgs([*overrides, "dataset=image_folder", f"dataset.path={tmp_path}"]))


def test_a_shape_error_without_a_declared_shape_is_left_to_the_run(tmp_path):
    check_run_args(
        RunArgs(["model=shared_cnn", "model.kernel_size=99", "dataset=image_folder", f"dataset.path={tmp_path}"])
    )


@pytest.mark.parametrize("name", SCHEDULES)
def test_every_listed_schedule_is_accepted_and_made(name):
    check_run_args(RunArgs(["model=mlp", f"trainer.schedule={name}", "dataset=synthetic"]))
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = make_scheduler(optimizer, name, 10)
    assert (scheduler is None) == (name == "none")
