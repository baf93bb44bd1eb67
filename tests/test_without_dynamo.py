"""A run never imports torch._dynamo (2–3 s of every job's start-up), and the optimizers made without
it step to exactly the numbers torch's own wrappers give (sharebench/without_dynamo.py)."""

import json
import subprocess
import sys
import textwrap

import pytest
from helpers.commands import REPO

OPTIMIZERS = sorted(p.stem for p in (REPO / "conf" / "optim").glob("*.yaml"))

TRAIN = textwrap.dedent(
    """
    import json, sys
    import torch
    from sharebench.configs import compose
    from sharebench.errors import instantiate
    from sharebench.train.optimizers import build_optimizer

    def train(make):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        optimizer = make(model.parameters())
        hooks = []
        optimizer.register_step_pre_hook(lambda *a: hooks.append("pre"))
        optimizer.register_step_post_hook(lambda *a: hooks.append("post"))
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 12)
        for _ in range(12):
            optimizer.zero_grad()
            x = torch.randn(5, 6)
            torch.nn.functional.cross_entropy(model(x), torch.randint(0, 3, (5,))).backward()
            optimizer.step()
            schedule.step()
        optimizer.load_state_dict(optimizer.state_dict())
        return [p.detach().clone() for p in model.parameters()], hooks, torch.is_grad_enabled()

    cfg = compose(["optim=" + sys.argv[1]])
    lean = train(lambda params: build_optimizer(cfg.optim, params))
    dynamo_after_lean = "torch._dynamo" in sys.modules
    import torch._dynamo  # now torch's wrappers run as they always do
    plain = train(lambda params: instantiate(cfg.optim, params=params))
    print(json.dumps({
        "dynamo_after_lean": dynamo_after_lean,
        "equal": all(torch.equal(a, b) for a, b in zip(lean[0], plain[0])),
        "hooks": [lean[1], plain[1]],
        "grad_mode": [lean[2], plain[2]],
    }))
    """
)


@pytest.mark.parametrize("optim", OPTIMIZERS)
def test_an_optimizer_made_without_dynamo_steps_as_torchs_own(optim):
    out = subprocess.run([sys.executable, "-c", TRAIN, optim], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["dynamo_after_lean"] is False
    assert got["equal"], "the step without torch's graph breaks changed a number"
    assert got["hooks"][0] == got["hooks"][1] == ["pre", "post"] * 12
    assert got["grad_mode"] == [True, True]


def test_a_whole_run_never_imports_dynamo(tmp_path):
    """The checks (a dry build and forward), the accounting (FLOP counter), the optimizer, a step, an
    evaluation and the figures: none of it loads the compiler."""
    script = (
        "import sys; from sharebench.cli import main; "
        "code = main(['run', 'trainer.max_steps=2', 'trainer.progress=false']); "
        "print('DYNAMO', 'torch._dynamo' in sys.modules, code)"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "DYNAMO False 0" in out.stdout, out.stdout[-2000:]
