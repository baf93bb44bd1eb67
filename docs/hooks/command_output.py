"""MkDocs hook: a command's output, run at build time, where a page asks for it.

A line `<!-- output: sharebench params model=local_cnn -->` (optionally ending `| tail N`) becomes a console block with that
command and what it printed, so examples of `params`, `list`, `--help` and error messages are
always today's. Only deterministic, quick commands belong here (no training: those numbers live in
committed records, see docs/results/).

A line `<!-- output: python -->` right above a ```python block runs that block in a fresh Python, in
an empty directory, and shows what it printed below it: an example of the Python calls that cannot
go stale. Keep such a block to seconds (a tiny synthetic run, trainer.threads=1).
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

MARKER = re.compile(r"^<!-- output: (?!python -->)(?P<command>.+?)(?: \| tail (?P<tail>\d+))? -->$", re.MULTILINE)
PYTHON = re.compile(r"^<!-- output: python -->\n```python\n(?P<code>.*?)\n```$", re.MULTILINE | re.DOTALL)
EXE = Path(sys.executable).with_name("sharebench")
_pending: dict = {}


@cache
def output(command: str, tail: int | None = None) -> str:
    args = shlex.split(command)
    if args[0] != "sharebench":
        raise ValueError(f"only sharebench commands run in the docs: {command}")
    done, text = _run([str(EXE), *args[1:]], timeout=300)
    if tail:  # the end of a long printout: say so, so the reader knows lines were left out
        text = "…\n" + "\n".join(text.splitlines()[-tail:])
    if done.returncode not in (0, 2):
        raise RuntimeError(f"`{command}` failed in the docs build (exit {done.returncode}):\n{text}")
    return f"```console\n$ {command}\n{text}\n```"


@cache
def python_output(code: str) -> str:
    done, text = _run([sys.executable, "-c", code], timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"a Python example failed in the docs build (exit {done.returncode}):\n{text}")
    return f"```python\n{code}\n```\n\nIt prints (run when these pages were built):\n\n```text\n{text}\n```"


def _args(m) -> tuple[str, int | None]:
    return m["command"], int(m["tail"]) if m["tail"] else None


def on_files(files, config):
    """Start every page's commands at once: each pays torch's import, so they run side by side."""
    global _pending
    pool = ThreadPoolExecutor(max_workers=4)
    pages = [f.content_string for f in files.documentation_pages()]
    wanted = {_args(m) for text in pages for m in MARKER.finditer(text)}
    _pending = {args: pool.submit(output, *args) for args in wanted}
    _pending |= {m["code"]: pool.submit(python_output, m["code"]) for text in pages for m in PYTHON.finditer(text)}
    pool.shutdown(wait=False)
    return files


def on_page_markdown(markdown, page, config, files):
    def done(key, run, *args):  # started by on_files, or now (a page it did not see: mkdocs serve)
        return _pending[key].result() if key in _pending else run(*args)

    markdown = PYTHON.sub(lambda m: done(m["code"], python_output, m["code"]), markdown)
    return MARKER.sub(lambda m: done(_args(m), output, *_args(m)), markdown)


def _run(argv: list[str], timeout: int) -> tuple[subprocess.CompletedProcess, str]:
    """Run `argv` in an empty temporary directory; the process and its output (stdout, then stderr)."""
    with tempfile.TemporaryDirectory() as cwd:
        done = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            # 80 columns: argparse wraps its help there, within a code block's width at 1280 px
            env={**os.environ, "COLUMNS": "80", "SHAREBENCH_DATA": os.environ.get("SHAREBENCH_DATA", cwd)},
        )
    return done, (done.stdout + done.stderr).rstrip()
