"""The head of a results page: the question it answers, whether its runs followed their protocol
(steps run against the protocol's) and what they cost. A report written with `--page` opens with
these, then its findings (findings.py). No torch, no Hydra.
"""

from dataclasses import dataclass

from sharebench.compare.runs import Comparison
from sharebench.compare.statistics import number


@dataclass(frozen=True)
class PageHead:
    title: str | None = None
    question: str | None = None
    protocol_steps: int | None = None  # the steps a run of the experiment's protocol takes


def steps_run(cmp: Comparison) -> list[int]:
    """The distinct step counts the completed runs reached, smallest first."""
    return sorted({int(v) for r in cmp.runs if r.status == "completed" and (v := number(r.summary.get("steps")))})


def shortened(cmp: Comparison, protocol_steps: int | None) -> str | None:
    """ "shortened: 500 of 6,000 steps" when runs stopped short of the protocol; None otherwise."""
    steps = steps_run(cmp)
    if protocol_steps is None or not steps or max(steps) >= protocol_steps:
        return None
    return f"shortened: {_steps_text(steps)} of {protocol_steps:,} steps"


def steps_line(cmp: Comparison, protocol_steps: int | None) -> str:
    steps = steps_run(cmp)
    if not steps:
        return "- steps: —"
    text = f"- steps per run: {_steps_text(steps)}"
    if protocol_steps is None:
        return text
    cut = shortened(cmp, protocol_steps)
    if not cut:
        return f"{text}, the protocol's {protocol_steps:,}"
    scale = protocol_steps / max(steps)  # training time grows with the steps; the rest is small
    return (
        f"{text} — **{cut}**; at the pace these records show, the protocol would take about "
        f"{_hours(cmp) * scale:.2g} CPU-hours"
    )


def cpu_hours(cmp: Comparison) -> str:
    """Training CPU time: each run's train_seconds times its threads, summed, in hours."""
    return f"- training CPU time: {_hours(cmp):.2g} h (each run's training seconds × its threads, summed)"


def _hours(cmp: Comparison) -> float:
    seconds = (
        (number(r.summary.get("train_seconds")) or 0) * (number(r.summary.get("threads")) or 1) for r in cmp.runs
    )
    return sum(seconds) / 3600


def _steps_text(steps: list[int]) -> str:
    return f"{steps[0]:,}" if len(steps) == 1 else f"{steps[0]:,}–{steps[-1]:,}"
