"""MkDocs hook: a command's output, run at build time, where a page asks for it.

A line `<!-- output: sharebench params model=local_cnn -->` (optionally ending `| tail N`) becomes a console block with that
command and what it printed, so examples of `params`, `list`, `--help` and error messages are
always today's. Only deterministic, quick commands belong here (no training: those numbers live in
committed records, see docs/results/).
"""

import os
import re
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

MARKER = re.compile(r"^<!-- output: (?P<command>.+?)(?: \| tail (?P<tail>\d+))? -->$", re.MULTILINE)
EXE = Path(sys.executable).with_name("sharebench")
_pending: dict = {}


@cache
def output(command: str, tail: int | None = None) -> str:
    args = shlex.split(command)
    if args[0] != "sharebench":
        raise ValueError(f"only sharebench commands run in the docs: {command}")
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run(
            [str(EXE), *args[1:]],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
            # 80 columns: argparse wraps its help there, within a code block's width at 1280 px
            env={**os.environ, "COLUMNS": "80", "SHAREBENCH_DATA": os.environ.get("SHAREBENCH_DATA", cwd)},
        )
    text = (done.stdout + done.stderr).rstrip()
    if tail:  # the end of a long printout: say so, so the reader knows lines were left out
        text = "…\n" + "\n".join(text.splitlines()[-tail:])
    if done.returncode not in (0, 2):
        raise RuntimeError(f"`{command}` failed in the docs build (exit {done.returncode}):\n{text}")
    return f"```console\n$ {command}\n{text}\n```"


def _args(m) -> tuple[str, int | None]:
    return m["command"], int(m["tail"]) if m["tail"] else None


def on_files(files, config):
    """Start every page's commands at once: each pays torch's import, so they run side by side."""
    global _pending
    pool = ThreadPoolExecutor(max_workers=4)
    wanted = {_args(m) for f in files.documentation_pages() for m in MARKER.finditer(f.content_string)}
    _pending = {args: pool.submit(output, *args) for args in wanted}
    pool.shutdown(wait=False)
    return files


def on_page_markdown(markdown, page, config, files):
    return MARKER.sub(lambda m: _pending[_args(m)].result() if _args(m) in _pending else output(*_args(m)), markdown)
