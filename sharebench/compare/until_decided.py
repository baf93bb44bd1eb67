"""Seeds until decided: the plan of a `hydra/sweeper=until_decided` sweep, its checks, and its rounds.

    sharebench run -m experiment=sharing_mnist1d hydra/sweeper=until_decided seed='range(0,10)'

The sweep's axes other than the seed are its arms (here model=shared_cnn, local_cnn, mlp); its pairs
are the arms' twins (or every arm against hydra.sweeper.baseline); its seed axis is the order in which
seeds are added. Round one runs every arm on the first `first_round` seeds; each later round adds
`step` seeds to the arms of pairs still undecided, until every pair has a verdict or the arms have
`budget` seeds. The verdicts and their error rate under these repeated looks: compare/sequential.py.

Job numbers are fixed by the plan (seed position × arms + arm), so a sweep continued with
`resume=true` finds every finished job where it left it. The Hydra plugin that runs this is
hydra_plugins/sharebench_until_decided; check_sweep runs the same checks before Hydra starts (cli).
"""

import csv
import io
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

from sharebench.compare.sequential import Design, replay, schedule
from sharebench.compare.units import to_metric_units
from sharebench.compare.verdicts import DELTA, UNDECIDED, check_delta
from sharebench.configs import parse_overrides
from sharebench.errors import UserError

SWEEPER = "hydra_plugins.sharebench_until_decided.until_decided.UntilDecidedSweeper"
NAME = "hydra/sweeper=until_decided"
RESULT_FILE = "until_decided.csv"
KEYS = ("first_round", "step", "budget", "alpha", "delta", "metric", "baseline")  # its config's, params aside


def check_sweep(run) -> None:
    """`sharebench run` arguments (configs.RunArgs): nothing for any other sweeper; a UserError, before
    Hydra starts, for a sweep the until_decided sweeper would refuse (its plan, keys and pairs)."""
    from omegaconf import OmegaConf

    if not run.multirun or run.only_prints or run.flags.cfg or run.own_configs:
        return
    hydra = run.hydra_node()
    if OmegaConf.select(hydra, "sweeper._target_") != SWEEPER:
        return
    keys = OmegaConf.to_container(hydra.sweeper, resolve=True)
    keys.pop("_target_")
    params = keys.pop("params", None) or {}
    task = [o for o in run.overrides if not o.is_hydra_override()]
    plan = make_plan([*parse_overrides([f"{k}={v}" for k, v in params.items()]), *task])
    unknown = sorted(set(keys) - set(KEYS))
    if unknown:
        raise UserError(f"hydra.sweeper.{unknown[0]} is not a key of {NAME}; its keys: {', '.join(KEYS)}")
    arm_pairs(plan, make_design(plan, **keys).baseline)


@dataclass(frozen=True)
class Plan:
    seeds: list[str]  # the seed axis, in the order seeds are added
    arms: list[dict[str, str]]  # one dict of swept key → value per arm
    fixed: list[str]  # overrides every job shares

    def job_number(self, seed_position: int, arm: int) -> int:
        return seed_position * len(self.arms) + arm

    def job(self, seed_position: int, arm: int) -> list[str]:
        sweep = [f"{k}={v}" for k, v in self.arms[arm].items()]
        return [*self.fixed, *sweep, f"seed={self.seeds[seed_position]}"]

    def label(self, arm: int) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.arms[arm].items())


def make_plan(overrides) -> Plan:
    """The plan of parsed overrides (Hydra's Override objects: the sweeper params, then the command line)."""
    seeds, axes, fixed = None, {}, {}
    for o in overrides:
        key = o.get_key_element()
        if o.is_sweep_override():
            if not o.is_discrete_sweep():
                raise UserError(f"{NAME} takes lists and range() only: {o.input_line} is a search space")
            values = list(o.sweep_string_iterator())
            if key.lstrip("+") == "seed":
                seeds = values
            else:
                axes[key] = values
        else:
            fixed[key] = o.input_line
    if seeds is None:
        raise UserError(
            f"{NAME} adds seeds in rounds: give the seeds it may use as a sweep axis, e.g. seed='range(0,10)'"
        )
    arms = [dict(zip(axes, values)) for values in itertools.product(*axes.values())]
    if len(arms) < 2:
        raise UserError(
            f"{NAME} compares arms, and this sweep has one: sweep a setting too, e.g. model=shared_cnn,local_cnn"
        )
    return Plan([str(s) for s in seeds], arms, list(fixed.values()))


def make_design(plan: Plan, first_round, step, budget, alpha, delta, metric, baseline) -> Design:
    """The looks and error budget from the sweeper's keys, each checked (one line for each mistake)."""
    budget = len(plan.seeds) if budget is None else _whole("budget", budget, 2)
    first_round, step = _whole("first_round", first_round, 2), _whole("step", step, 1)
    if budget < first_round:
        raise UserError(
            f"hydra.sweeper.budget={budget} is below hydra.sweeper.first_round={first_round}: the first round "
            f"alone would spend it; raise the budget or lower first_round"
        )
    if budget > len(plan.seeds):
        raise UserError(
            f"hydra.sweeper.budget={budget} seeds per arm, but the seed axis lists {len(plan.seeds)}: list at "
            f"least {budget}, e.g. seed='range(0,{budget})'"
        )
    try:
        delta = DELTA if delta is None else to_metric_units(check_delta(delta), metric)
    except ValueError as err:
        raise UserError(
            f"hydra.sweeper.delta={delta}: {err}, in percentage points for an accuracy (1: one point)"
        ) from None
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise UserError(f"hydra.sweeper.alpha={alpha}: the error rate is a number between 0 and 1, e.g. 0.05")
    looks = schedule(first_round, step, budget)
    return Design(plan.seeds[:budget], looks, float(alpha), delta, str(metric), baseline and str(baseline))


def _whole(key: str, value, least: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise UserError(f"hydra.sweeper.{key}={value}: give a whole number ≥ {least}")
    return value


def arm_pairs(plan: Plan, baseline: str | None) -> list[tuple[int, int]]:
    """(A, B) arm indices: each arm with its twin, or each arm against the baseline arms that agree
    with it on every key the baseline does not name — as `sharebench plot` pairs the groups."""
    from sharebench.compare.paired import TWINS
    from sharebench.compare.select import parse, resolve, same

    arms = plan.arms
    keys = list(arms[0])
    if baseline is None:
        pairs = [
            (a, b)
            for a, b in itertools.permutations(range(len(arms)), 2)
            if (diff := [k for k in keys if arms[a][k] != arms[b][k]])
            and len(diff) == 1
            and TWINS.get(diff[0].lstrip("+"), {}).get(arms[a][diff[0]]) == arms[b][diff[0]]
        ]
        hint = "name a baseline arm by its value, e.g. hydra.sweeper.baseline=local_cnn"
    else:
        # a bare value names the key some arm has it for, as `plot --baseline local_cnn` does
        bare = lambda v: next((k for k in keys if any(same(arm[k], v) for arm in arms)), None)  # noqa: E731
        terms = [(resolve(k, keys) if k else bare(v), v) for k, v in parse(baseline)]
        named = {k for k, _ in terms if k}
        base = [i for i, arm in enumerate(arms) if terms and all(k and same(arm[k], v) for k, v in terms)]
        pairs = [
            (a, b)
            for a in range(len(arms))
            if a not in base
            for b in base
            if all(arms[a][k] == arms[b][k] for k in keys if k not in named)
        ]
        hint = f"hydra.sweeper.baseline={baseline} matches {len(base)} arm(s); choose a value among: " + "; ".join(
            map(plan.label, range(len(arms)))
        )
    if not pairs:
        raise UserError(f"{NAME}: no pair of arms to decide ({hint})")
    return pairs


@dataclass
class Outcome:
    """What the rounds found: per pair its replayed verdict, and why the sweep stopped."""

    pairs: list[tuple[int, int]]
    found: list  # compare.sequential.SequentialDecision per pair
    reason: str  # "decided" | "budget" | "failures"
    seeds_run: int  # seeds per arm reached by the arms that ran longest


def run_rounds(plan: Plan, design: Design, pairs, higher_is_better: bool, launch) -> Outcome:
    """Launch the rounds: `launch(jobs, first_job_number)` runs consecutive jobs and returns their
    summaries (dict or None). Stops when every pair is decided, at the budget, or when a round leaves
    an undecided pair with no more paired seeds than before (its runs fail)."""
    values: dict[tuple[int, str], float] = {}
    done, found, reason = 0, [], "budget"
    for n_k in design.looks:
        # round one runs every arm (one in no pair is still compared by `plot`); later ones the open pairs'
        open_arms = sorted({i for p, f in zip(pairs, found) if _open(f) for i in p}) if found else range(len(plan.arms))
        jobs = [(plan.job_number(pos, arm), pos, arm) for pos in range(done, n_k) for arm in open_arms]
        for run in _consecutive(jobs):
            summaries = launch([plan.job(pos, arm) for _, pos, arm in run], run[0][0])
            for (_, pos, arm), summary in zip(run, summaries):
                value = _value(summary, design.metric)
                if value is not None:
                    values[(arm, plan.seeds[pos])] = value
        before = [f.seeds if f else 0 for f in found] or [0] * len(pairs)
        done, found = n_k, replay(_diffs(values, pairs), higher_is_better, design)
        if all(not _open(f) for f in found):
            reason = "decided"
            break
        if any(_open(f) and f.seeds <= b for f, b in zip(found, before)):
            reason = "failures"
            break
    return Outcome(pairs, found, reason, done)


def _open(found) -> bool:
    return found is None or found.decision.verdict == UNDECIDED


def _consecutive(jobs):
    """Runs of consecutive job numbers: a launcher numbers the jobs of one call from its first."""
    for _, run in itertools.groupby(enumerate(jobs), key=lambda x: x[1][0] - x[0]):
        yield [job for _, job in run]


def _value(summary, metric: str) -> float | None:
    if not isinstance(summary, dict) or summary.get("status") != "completed":
        return None
    value = summary.get(f"final_{metric}", summary.get(metric))
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _diffs(values: dict, pairs) -> list[dict[str, float]]:
    out = []
    for a, b in pairs:
        seeds = {s for arm, s in values if arm == a} & {s for arm, s in values if arm == b}
        out.append({s: values[(a, s)] - values[(b, s)] for s in seeds})
    return out


REASONS = {
    "decided": "every pair has a verdict",
    "budget": "the seed budget is spent",
    "failures": "a round added no completed pair of runs to an undecided pair (see the runs' summary.json)",
}


def outcome_table(plan: Plan, design: Design, outcome: Outcome) -> tuple[str, str]:
    """(the lines printed at the sweep's end, the CSV written beside it)."""
    head = (
        f"── seeds until decided: stopped at {outcome.seeds_run} seeds per arm (budget {design.looks[-1]}): "
        f"{REASONS[outcome.reason]} ──"
    )
    lines, rows = [head], [["a", "b", "verdict", "decided_at_seeds", "seeds", "seeds_needed", "stopped"]]
    for (a, b), f in zip(outcome.pairs, outcome.found):
        verdict, need = f.decision.verdict, f.decision.seeds_needed
        where = f"at {f.seeds} seeds" if f.look is not None else f"after {f.seeds} seeds"
        more = f" (about {need} seeds per arm would decide it)" if verdict == UNDECIDED and need else ""
        lines.append(f"  {plan.label(a)} − {plan.label(b)}: {verdict} {where}{more}")
        decided_at = f.seeds if f.look is not None else ""
        rows.append([plan.label(a), plan.label(b), verdict, decided_at, f.seeds, need or "", outcome.reason])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return "\n".join(lines), out.getvalue()


def write_outcome(sweep_dir: Path, text: str) -> None:
    from sharebench.records.atomic import write_atomic

    write_atomic(Path(sweep_dir) / RESULT_FILE, text)
