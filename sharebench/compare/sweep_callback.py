"""Hydra callback: when a multirun ends, compare its runs and print the table in the terminal.

Wired in conf/config.yaml under hydra.callbacks; switch it off with
`hydra.callbacks.comparison.enabled=false`. The files land in <sweep dir>/comparison/.
"""

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sharebench.errors import UserError

log = logging.getLogger("sharebench")


class ComparisonCallback(Callback):
    def __init__(self, enabled: bool = True, formats: list[str] | None = None, metric: str = "test_acc", delta=None):
        self.enabled = enabled
        self.formats = tuple(formats or ["png"])
        self.metric = metric
        self.delta = delta  # points for an accuracy; None: the default, or the until_decided sweep's own

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if not self.enabled:
            return
        sweep_dir = Path(config.hydra.sweep.dir)
        from sharebench.compare.comparison_files import write_comparison
        from sharebench.compare.tables import terminal_table

        try:
            cmp, table, paired, files = write_comparison(
                [str(sweep_dir)], metric=self.metric, formats=self.formats, delta=self.delta
            )
        except UserError as err:
            print(f"sharebench: no comparison: {err}", flush=True)
            return
        except Exception as err:  # the runs are safe on disk; a plotting problem must not fail the sweep
            log.warning(
                "comparison of %s failed (%s: %s); retry with `sharebench plot %s`",
                sweep_dir,
                type(err).__name__,
                err,
                sweep_dir,
            )
            return
        print(terminal_table(cmp, table, paired), flush=True)
        print(f"comparison: {files[0].parent}/ (regenerate with `sharebench plot {sweep_dir}`)", flush=True)
