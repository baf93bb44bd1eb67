"""The findings that open a report and a results page: made from the verdicts and intervals of the
tables below them, on hand-made runs with known numbers."""

import pytest
from helpers.runs import make_run

from sharebench.compare.comparison_files import write_comparison
from sharebench.compare.findings import findings
from sharebench.compare.report import sweep_command


def _found(tmp_path, shared, local):
    for seed, (a, b) in enumerate(zip(shared, local)):
        make_run(tmp_path, f"s{seed}", "shared_cnn", seed, a)
        make_run(tmp_path, f"l{seed}", "local_cnn", seed, b)
    cmp, table, paired, _ = write_comparison([str(tmp_path)], tmp_path / "cmp")
    return findings(cmp, table, paired), paired


def test_a_decided_pair_is_named_winner_first_with_its_interval(tmp_path):
    found, paired = _found(tmp_path, [0.70, 0.72, 0.71, 0.73], [0.80, 0.81, 0.83, 0.82])
    row = paired.iloc[0]
    assert row["verdict"] == "B better"
    low, high = sorted((-100 * row["ci_high"], -100 * row["ci_low"]))
    assert found[0] == (
        f"local_cnn beats shared_cnn on final test accuracy by {-100 * row['mean_diff']:.2f} points "
        f"[{low:.2f}, {high:.2f}] (95% t-interval, n = 4)."
    )
    assert found[-1].startswith("Highest final test accuracy: local_cnn, 81.50%")


def test_an_undecided_pair_says_what_would_decide_it(tmp_path):
    found, paired = _found(tmp_path, [0.80, 0.75, 0.86], [0.78, 0.79, 0.80])
    need = int(paired.iloc[0]["seeds_needed"])
    assert found[0] == (
        f"shared_cnn − local_cnn is undecided: about {need} seeds per arm would decide it if its observed "
        "difference held."
    )


@pytest.mark.parametrize("override", ["hydra/sweeper=until_decided", "hydra.sweeper.baseline=40"])
def test_a_page_command_keeps_the_sweeper_and_quotes_for_a_shell(tmp_path, override):
    (tmp_path / "multirun.yaml").write_text(
        "hydra:\n  overrides:\n    hydra: ['" + override + "', 'hydra.sweep.dir=x', 'hydra.sweeper.max_batch_size=8']\n"
        "    task: ['model=a,b', 'seed=range(0,10)']\n"
    )
    assert sweep_command(tmp_path) == f"sharebench run -m model=a,b 'seed=range(0,10)' {override}"


def test_a_shortened_page_says_so_in_its_first_lines_and_atop_every_figure(tmp_path):
    from matplotlib import image

    from sharebench.cli import main

    for seed in range(3):
        make_run(tmp_path / "runs", f"s{seed}", "shared_cnn", seed, 0.8, summary={"steps": 30})
        make_run(tmp_path / "runs", f"l{seed}", "local_cnn", seed, 0.7, summary={"steps": 30})
    page = tmp_path / "page.md"
    assert main(["report", str(tmp_path / "runs"), "--page", str(page), "--protocol-steps", "6000"]) == 0
    head = page.read_text().split("## Findings")[0]
    assert "**Shortened: 30 of 6,000 steps**" in head and head.startswith("# page (shortened: 30 of 6,000 steps)")
    plain = tmp_path / "plain"
    assert main(["plot", str(tmp_path / "runs"), "--out", str(plain)]) == 0

    def red_on_top(png):  # tab:red text in the top tenth of the figure
        pixels = image.imread(png)
        top = pixels[: pixels.shape[0] // 10, :, :3]
        return bool(((top[..., 0] > 0.7) & (top[..., 1] < 0.35) & (top[..., 2] < 0.35)).any())

    assert red_on_top(tmp_path / "page" / "test_acc_by_group.png") and not red_on_top(plain / "test_acc_by_group.png")
