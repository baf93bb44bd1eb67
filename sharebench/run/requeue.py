"""Under submitit (hydra/launcher=submitit_slurm | submitit_local): a job preempted or at its time
limit stops between two steps, writes checkpoint.pt, is requeued and continues from it by itself.

submitit's protocol: Slurm sends SIGUSR2 (`#SBATCH --signal=USR2@<signal_delay_s>`; the environment
variable SUBMITIT_PREEMPT_SIGNAL names another) before the time limit, and on preemption where the
cluster sets preempt_send_user_signal; submitit_local sends it `signal_delay_s` before `timeout_min`.
submitit's handler calls the submitted callable's checkpoint() — Hydra's submitit launcher returns
DelayedSubmission(launcher, <the same job's arguments>): the same overrides, job number and run dir —
saves it in place of the job, requeues the job (`scontrol requeue`; submitit_local restarts it) and
exits. On its own it would exit wherever the training happens to be; here:

- `preemption_stops(stop)`, around training, turns the signal into a stop request: the loop stops
  after the current step and writes checkpoint.pt (status `interrupted`), as for SIGTERM;
- `requeue(signum)` then hands the signal to submitit's handler, which saves the launcher's
  checkpoint() and requeues the job (it does not return);
- the requeued job runs with `resume=true` semantics in its own run dir (`under_submitit()`:
  resume_plan.plan continues from checkpoint.pt, skips a completed run, starts over otherwise).

SIGTERM under submitit stops and checkpoints without a requeue (scancel sends it too, and submitit
ignores it), and a SIGTERM that comes with the preemption signal — Slurm sends both on preemption — is
not the second request that stops at once: only one of them reaches the loop, the requeue wins.
"""

import os
import signal
import sys
import threading
from contextlib import contextmanager


def preemption_signal() -> int:
    """The signal submitit sends before a time limit or a preemption (SIGUSR2 by default)."""
    return getattr(signal, "SIG" + os.environ.get("SUBMITIT_PREEMPT_SIGNAL", "USR2"), signal.SIGUSR2)


def _submitit_handler(signum: int):
    """submitit's checkpoint-and-requeue handler, when it is the one installed for `signum`."""
    handler = signal.getsignal(signum)
    owner = getattr(handler, "__self__", None)
    return handler if type(owner).__module__.startswith("submitit.") else None


def under_submitit() -> bool:
    """This process is a submitit job (first run or requeued) with submitit's requeue handler in place."""
    return bool(os.environ.get("SUBMITIT_EXECUTOR")) and _submitit_handler(preemption_signal()) is not None


def is_preemption(signum: int | None) -> bool:
    """`signum` (a StopRequest's, once training is over) is submitit's preemption signal, under submitit."""
    return signum is not None and signum == preemption_signal() and under_submitit()


@contextmanager
def preemption_stops(stop):
    """While a run trains under submitit: the preemption signal and SIGTERM set `stop` (a StopRequest:
    truthy, `signum`) instead of ending the process; the preemption signal wins over SIGTERM, and
    neither asks twice. Elsewhere, or outside the main thread: nothing changes."""
    if not under_submitit() or threading.current_thread() is not threading.main_thread():
        yield stop
        return
    preempt = preemption_signal()

    def request(signum, frame):
        if stop.signum is None:
            then = "the job is requeued and continues from it" if signum == preempt else "then exiting"
            print(
                f"\nsharebench: {signal.Signals(signum).name} received: stopping after this step and "
                f"writing a checkpoint; {then}",
                file=sys.stderr,
                flush=True,
            )
        if stop.signum is None or signum == preempt:
            stop.signum = signum

    previous = {sig: signal.signal(sig, request) for sig in (preempt, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def requeue(signum: int | None) -> None:
    """After a run stopped for submitit's preemption signal and wrote checkpoint.pt: let submitit's own
    handler save the launcher's checkpoint() — this same job — and requeue it. It exits the process
    (or raises submitit's UncompletedJobError once max_num_timeout requeues are spent). Otherwise:
    returns at once."""
    if is_preemption(signum):
        print("sharebench: checkpoint written; requeueing the job (submitit)", file=sys.stderr, flush=True)
        _submitit_handler(signum)(signum, None)
