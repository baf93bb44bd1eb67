"""`python scripts/bench.py ...` is `python -m scripts.bench ...`: the suite lives in scripts/bench/."""

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, not scripts/: `scripts.bench` imports

from scripts.bench import main  # noqa: E402

main()
