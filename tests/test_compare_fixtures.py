"""A run dir written by hand (tests/helpers/runs.py) reads as one that `sharebench run` wrote."""

from helpers.runs import make_run


def test_a_hand_made_run_reads_as_sharebench_wrote_it(tmp_path):
    from sharebench.compare.run_record import load_run

    run = load_run(make_run(tmp_path, "0", "shared_cnn", 1, 0.75, extra={"optim.lr": 0.1}))
    assert run.status == "completed" and run.value("model") == "shared_cnn" and run.value("optim.lr") == 0.1
    assert run.metrics is not None and list(run.metrics["step"]) == [30]
