"""Every spectrum point (each file of conf/spectrum/, found there) records each layer's locality and
sharing at every evaluation and as final_ values in summary.json; the MLP its first layer's width."""

import math

import pytest
from helpers.configs import TINY, make_cfg

from sharebench.configs import available_options
from sharebench.records.run_dir import read_csv
from sharebench.run import experiment

RUN = (*TINY, "trainer.max_steps=4", "trainer.eval_every=2", "trainer.threads=1", "trainer.plots=false")
RUN += ("trainer.save_model=false",)
POINTS = available_options()["spectrum"]


@pytest.mark.parametrize("point", POINTS)
def test_every_spectrum_point_records_where_its_layers_sit(tmp_path, point):
    cfg = make_cfg(*RUN, f"spectrum={point}")
    summary = experiment.run(cfg, tmp_path)
    rows = read_csv(tmp_path / "metrics.csv")
    assert summary["status"] == "completed" and len(rows) == 2
    for layer in ("conv1", "conv2"):  # shared_cnn's two blocks
        for row in rows:
            locality, sharing = float(row[f"{layer}_locality"]), float(row[f"{layer}_sharing"])
            assert 0 < locality <= 1 + 1e-6 and 0 <= sharing <= 1 + 1e-9, (layer, row)
        final = summary[f"final_{layer}_locality"], summary[f"final_{layer}_sharing"]
        assert final == (float(rows[-1][f"{layer}_locality"]), float(rows[-1][f"{layer}_sharing"]))
        if cfg.model.layer == "conv":  # one kernel at every position, whatever else the point does
            assert final == (1.0, 1.0)
        elif cfg.model.layer == "dense":  # weight everywhere: a 3×3 neighbourhood of 8×8 is about 9/64
            assert final[0] < 0.5 and 0 < summary[f"final_{layer}_rf_width"] <= 64
        elif (
            cfg.model.scheme.get("rank") == 1 or cfg.model.scheme.get("share_every") == 1
        ):  # one kernel after every step
            assert final[0] == 1.0 and final[1] == pytest.approx(1, abs=1e-9)
        else:  # a kernel at each position, none outside the neighbourhood, not all alike
            assert final[0] == 1.0 and final[1] < 1


def test_the_mlp_records_its_first_layers_receptive_field(tmp_path):
    summary = experiment.run(make_cfg(*RUN, "model=mlp"), tmp_path)
    assert 1 <= summary["final_linear1_rf_width"] <= 64  # 8×8 input positions
    assert 0 <= summary["final_linear1_ipr_locality"] <= 1
    assert not any(
        k.endswith(("_locality", "_sharing")) and "linear1" not in k for k in summary if k.startswith("final_")
    )
    assert math.isfinite(float(read_csv(tmp_path / "metrics.csv")[0]["linear1_rf_width"]))
