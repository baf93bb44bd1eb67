"""Hydra's private names that sharebench reaches (all in sharebench/configs.py), each pinned: a Hydra
release that renames, moves or changes one fails here, by name, instead of somewhere in a run."""

import argparse

import pytest
from omegaconf import OmegaConf

from sharebench import configs
from sharebench.configs import RunArgs, compose, parse_overrides
from sharebench.errors import UserError

# what RunArgs reads from hydra._internal.utils.get_args_parser's namespace
FLAGS = ("overrides", "multirun", "cfg", "help", "hydra_help", "info", "shell_completion", "config_name")
FLAGS += ("config_dir", "config_path", "experimental_rerun")


def test_get_args_parser_reads_the_flags_runargs_reads():
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()
    assert isinstance(parser, argparse.ArgumentParser)
    flags = parser.parse_args(["-m", "--cfg", "job", "--config-name", "other", "seed=1", "model=mlp"])
    assert set(FLAGS) <= set(vars(flags)), f"Hydra's flags changed: {sorted(vars(flags))}"
    assert flags.multirun and flags.cfg == "job" and flags.config_name == "other"
    assert flags.overrides == ["seed=1", "model=mlp"]
    run = RunArgs(["--multirun", "seed=1"])
    assert run.multirun and run.options == ["--multirun"] and not run.only_prints and not run.own_configs


def test_an_unknown_flag_reaches_the_parsers_error_method():
    """RunArgs turns argparse's usage-and-exit into one line by replacing the parser's `error`."""
    with pytest.raises(UserError, match=r"^unrecognized arguments: --nosuch: see `sharebench run --help`"):
        RunArgs(["--nosuch", "seed=1"])


def test_apply_overrides_to_config_applies_parsed_value_overrides():
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    cfg = OmegaConf.create({"a": 1, "b": {"c": 2}})
    OmegaConf.set_struct(cfg, True)
    ConfigLoaderImpl._apply_overrides_to_config(parse_overrides(["a=5", "+b.d=3", "~b.c"]), cfg)
    assert OmegaConf.to_container(cfg) == {"a": 5, "b": {"d": 3}}


def test_locate_imports_what_a_target_names_and_raises_on_a_missing_one():
    import os.path

    assert configs.locate("os.path.join") is os.path.join
    with pytest.raises(ImportError):
        configs.locate("os.path.no_such_function")


def test_the_target_policy_takes_what_the_checks_pass_it():
    policy = configs.target_policy()
    if policy is None:
        pytest.skip("this Hydra has no instantiate policy (hydra._internal.target_policy)")
    policy("collections.OrderedDict", "collections.OrderedDict", "model._target_")  # allowed: returns
    with pytest.raises(Exception):
        policy("os.system", "os.system", "model._target_")


def test_hydras_core_plugins_are_where_configs_names_them():
    from hydra.plugins.launcher import Launcher
    from hydra.plugins.sweeper import Sweeper

    assert issubclass(configs.locate(configs.BASIC_SWEEPER), Sweeper)
    assert issubclass(configs.locate(configs.BASIC_LAUNCHER), Launcher)
    assert all(name.startswith(configs.PLUGIN_HOMES) for name in (configs.BASIC_SWEEPER, configs.BASIC_LAUNCHER))
    hydra = compose(with_hydra=True).hydra  # the shipped config's defaults are those very plugins
    assert hydra.sweeper._target_ == configs.BASIC_SWEEPER and hydra.launcher._target_ == configs.BASIC_LAUNCHER


def test_the_parsed_override_says_what_runargs_and_the_checks_ask_it():
    """hydra.core.override_parser's Override: the methods and fields sharebench reads."""
    add, force, delete, sweep, interval, group, quoted = parse_overrides(
        ["+a.b=1", "++c=2", "~d", "seed=range(0,3)", "lr=interval(0,1)", "hydra/launcher=basic", "e='x y'"]
    )
    assert (add.key_or_group, add.is_add(), add.get_value_string(), add.get_key_element()) == ("a.b", True, "1", "+a.b")
    assert force.is_force_add() and delete.is_delete() and delete.key_or_group == "d"
    assert sweep.is_sweep_override() and list(sweep.sweep_string_iterator()) == ["0", "1", "2"]
    assert interval.is_interval_sweep() and group.is_hydra_override() and not add.is_hydra_override()
    assert quoted.value() == "x y" and quoted.get_value_string() == "'x y'" and quoted.input_line == "e='x y'"
    assert RunArgs(["e='x y'", "resume=true"]).given("e") == "x y"
