"""The README's two quickstart commands, run as a new user runs them: in a fresh clone of this
commit (a new venv, the packages from this machine's pip configuration), each `&&` step timed.
The first line installs what running needs (no extras) and runs the default job; the second
installs the test extras and runs the test command. One pass, no repeats: it takes many minutes,
and the machine's load average is recorded beside each step because others may share it.

`publish` writes the README's sentence about these times from the record (between its
`quickstart times` markers); tests/test_bench.py checks that the two agree.
"""

import csv
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from scripts.bench.harness import ROOT

README = ROOT / "README.md"
BLOCK = re.compile(r"--8<-- \[start:quickstart\] -->\n```bash\n(.*?)```", re.S)
REGION = re.compile(r"(<!-- quickstart times: begin[^>]*-->\n).*?(<!-- quickstart times: end -->)", re.S)
PASSED = re.compile(r"\b\d+ (?:failed|passed)\b.*? in [\d.]+s")  # pytest's closing line


def commands(readme: str) -> list[str]:
    """The quickstart's command lines, as the README shows them."""
    return BLOCK.search(readme).group(1).strip().splitlines()


def measure(device, quick: bool) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "sharebench"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        lines = commands((clone / "README.md").read_text())
        return _timed(lines, clone)


def _timed(lines: list[str], cwd: Path) -> list[dict]:
    """Run the lines in one bash (the venv activated by the first stays active), each `&&` step
    followed by a time stamp; a step that fails stops the rest, and its row says so."""
    steps = [(n, step.strip()) for n, line in enumerate(lines, 1) for step in line.split(" && ")]
    marks = "\n".join(
        f"{step} || exit $?\necho \"@@ {i} $(date +%s.%N) $(cut -d' ' -f1 /proc/loadavg)\""
        for i, (_, step) in enumerate(steps)
    )
    start = time.time()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    out = subprocess.run(["bash", "-c", marks], cwd=cwd, capture_output=True, text=True, env=env)
    stamps = {int(i): (float(t), load) for i, t, load in re.findall(r"^@@ (\d+) ([\d.]+) ([\d.]+)$", out.stdout, re.M)}
    rows, before = [], start
    for i, (line, step) in enumerate(steps):
        done, load = stamps.get(i, (None, ""))
        result = ""
        if done is None:
            result = "failed" if i == len(stamps) else "not run"
        elif step.startswith("pytest"):
            found = PASSED.findall(out.stdout)
            result = found[-1] if found else ""
        rows.append(
            {
                "line": line,
                "step": step,
                "wall_s": round(done - before, 1) if done else "",
                "load_1min": load,
                "result": result,
            }
        )
        before = done or before
    if len(stamps) < len(steps):
        print(out.stdout[-3000:], out.stderr[-3000:], sep="\n")
    return rows


def sentence(caption: str, rows: list[dict]) -> str:
    """The README's words for the record: each command's time, and the steps that make it up."""
    machine = re.search(r"Measured on (.*?), \d{4}-\d\d-\d\d", caption)
    date = re.search(r"\d{4}-\d\d-\d\d", caption).group(0)
    parts = []
    for line in sorted({int(r["line"]) for r in rows}):
        steps = [r for r in rows if int(r["line"]) == line and r["wall_s"] not in ("", None)]
        total = sum(float(r["wall_s"]) for r in steps)
        detail = ", ".join(f"`{r['step']}` {_minutes(float(r['wall_s']))}" for r in steps if float(r["wall_s"]) >= 1)
        results = "".join(f" ({r['result']})" for r in steps if r["result"])
        parts.append(f"the {'first' if line == 1 else 'second'} command took {_minutes(total)} ({detail}){results}")
    loads = sorted(float(r["load_1min"]) for r in rows if r["load_1min"] not in ("", None))
    load = f"; load average {loads[0]:.1f}–{loads[-1]:.1f} as each step began" if loads else ""
    return (
        f"Timed in a fresh clone on {machine.group(1) if machine else 'this machine'}, {date}"
        f" (`python -m scripts.bench --parts quickstart`{load}): " + "; ".join(parts) + ".\n"
    )


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def publish(out: Path, readme: Path = README) -> None:
    """Write the README's sentence from results/bench/quickstart.{md,csv}."""
    text = readme.read_text()
    readme.write_text(REGION.sub(lambda m: m.group(1) + expected(out) + m.group(2), text))


def expected(out: Path) -> str:
    caption = (out / "quickstart.md").read_text().splitlines()[0]
    with open(out / "quickstart.csv", newline="") as f:
        return sentence(caption, list(csv.DictReader(f)))
