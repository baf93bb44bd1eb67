"""The performance goals, each met or not, read from the bench's own tables (results/bench/<part>.md):
nothing in results/bench/goals.md is typed by hand. The bench rewrites it after every run; to rewrite
it from the tables alone: python -m scripts.bench.goals."""

import operator
import sys
from dataclasses import dataclass
from pathlib import Path

OUT = Path("results/bench")
OPS = {"≤": operator.le, "≥": operator.ge, ">": operator.gt}


@dataclass(frozen=True)
class Goal:
    measure: str  # what is measured, in words
    part: str  # the bench part whose table holds it
    rows: dict  # column → value: the rows the goal is about (every one must meet it)
    column: str  # the column compared
    op: str  # a key of OPS
    limit: float
    unit: str = ""  # printed after the numbers (" s", " MiB", "%")


GOALS = [
    Goal("`LocallyConnected2d` forward + backward against `F.conv2d` doing the same FLOPs, at each shape",
         "locally_connected", {"variant": "LocallyConnected2d"}, "both_of_conv", "≥", 0.4),
    Goal("a training step of the 2-D SharedCNN's locally connected twin, after against before",
         "local_twin_step", {"model": "local_cnn (this code)"}, "speedup_vs_previous", ">", 1),
    Goal("the trainer against the [MNIST-1D paper](references.md#greydanus2020)'s hand-written loop (its CNN)", "runner_overhead",
         {"runner": "sharebench", "model": "MNIST-1D paper CNN (mnist1d_cnn)"}, "ratio_to_hand_loop", "≤", 1.05),
    Goal("a 1-step `sharebench run` (the whole process) against `python -c \"import torch\"`", "startup",
         {"process": "sharebench run trainer.max_steps=1"}, "ratio_to_import_torch", "≤", 2),
    Goal("a 1,000-job sweep: from the command to its first job", "sweep_start",
         {"process": "sharebench run -m (as shipped)"}, "seconds_to_first_job", "≤", 10, " s"),
    Goal("`sharebench plot` of a 10,000-run sweep: time", "plot_sweep", {"plot": "first plot"}, "wall_s", "≤", 60,
         " s"),
    Goal("`sharebench plot` of a 10,000-run sweep: peak memory", "plot_sweep", {"plot": "first plot"}, "peak_mib",
         "≤", 2048, " MiB"),
    Goal("a second `plot` of the same sweep", "plot_sweep", {"plot": "second plot, sweep unchanged"}, "wall_s", "≤",
         5, " s"),
    Goal("each layer's locality, sharing and width at an evaluation, against the run's time per evaluation",
         "position_maps", {}, "metrics_share", "≤", 5, "%"),
]  # fmt: skip


def read_table(path: Path) -> list[dict]:
    """The rows of the one Markdown table in a bench part's .md (cells as text)."""
    lines = [line for line in path.read_text().splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return [dict(zip(cells[0], row)) for row in cells[2:]]


def verdict(goal: Goal, table: list[dict]) -> tuple[str, bool]:
    """The measured values (every row the goal names) and whether all of them meet it."""
    rows = [r for r in table if all(r.get(k) == v for k, v in goal.rows.items())]
    if not rows:
        raise ValueError(f"{goal.part}: no row with {goal.rows}: the goal and its table disagree")
    values = [float(r[goal.column].rstrip("%")) for r in rows]
    met = all(OPS[goal.op](v, goal.limit) for v in values)
    if len(values) <= 3:
        return ", ".join(f"{v:g}{goal.unit}" for v in values), met
    return f"{min(values):g}{goal.unit} – {max(values):g}{goal.unit} ({len(values)} rows)", met


def goals_table(out: Path = OUT) -> str:
    lines = ["| goal | part, column | measured | target | met |", "| --- | --- | --- | --- | --- |"]
    for goal in GOALS:
        measured, met = verdict(goal, read_table(out / f"{goal.part}.md"))
        where = f"[`{goal.part}`](#{goal.part}), `{goal.column}`"
        target = f"{goal.op} {goal.limit:g}{goal.unit}"
        lines.append(f"| {goal.measure} | {where} | {measured} | {target} | {'met' if met else '**not met**'} |")
    return "\n".join(lines) + "\n"


def write_goals(out: Path = OUT) -> str:
    text = goals_table(out)
    (out / "goals.md").write_text(text)
    return text


if __name__ == "__main__":
    sys.stdout.write(write_goals(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
