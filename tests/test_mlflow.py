"""logger=mlflow (the `mlflow` extra): every run and sweep read back from a real MLflow store.

A local SQLite store (the default kind) for most tests; one sweep over HTTP against a real
`mlflow server`. A new SQLite store runs MLflow's schema migrations (tens of seconds on a busy
machine), so the session makes one and each test works on a copy of it.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers.commands import sharebench
from helpers.configs import DIVERGING, TINY, make_cfg

from sharebench.records.checkpoints import load_checkpoint
from sharebench.records.mlflow_sink import RUN_FILE, SWEEP_FILE
from sharebench.records.run_dir import read_csv, read_summary
from sharebench.run import experiment, job

pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

SHORT = (*TINY, "trainer.max_steps=6", "trainer.eval_every=3")


@pytest.fixture(scope="session")
def template_store(tmp_path_factory) -> Path:
    from sharebench.records.mlflow_sink import connect

    path = tmp_path_factory.mktemp("mlflow") / "template.db"
    connect(f"sqlite:///{path}", "sharebench")
    return path


@pytest.fixture
def store(template_store, tmp_path) -> str:
    """A fresh SQLite store (a copy of the session's) for one test: its URI."""
    path = tmp_path / "store" / "mlflow.db"
    path.parent.mkdir()
    shutil.copy(template_store, path)
    return f"sqlite:///{path}"


def run_id(run_dir: Path) -> str:
    return json.loads((run_dir / RUN_FILE).read_text())["run_id"]


def history(client: MlflowClient, rid: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(rid, key)]


def artifacts(client: MlflowClient, rid: str, path: str | None = None) -> set[str]:
    found = set()
    for item in client.list_artifacts(rid, path):
        found |= artifacts(client, rid, item.path) if item.is_dir else {item.path}
    return found


def test_a_run_lands_in_mlflow_with_its_config_metrics_summary_and_files(tmp_path, store):
    cfg = make_cfg(*SHORT, "logger=mlflow", f"logger.tracking_uri={store}")
    summary = experiment.run(cfg, tmp_path / "run")
    client = MlflowClient(store)
    run = client.get_run(run_id(tmp_path / "run"))
    assert (
        run.info.status == "FINISHED"
        and run.info.experiment_id == client.get_experiment_by_name("sharebench").experiment_id
    )
    params = run.data.params
    assert params["trainer.max_steps"] == "6" and params["dataset._target_"] == cfg.dataset._target_
    assert (
        params["model._target_"] == cfg.model._target_
        and params["seed"] == "0"
        and params["trainer.grad_clip"] == "null"
    )
    rows = read_csv(tmp_path / "run" / "metrics.csv")
    assert [int(r["step"]) for r in rows] == [3, 6]
    for column in ("test_acc", "val_loss", "train_loss", "lr"):  # every evaluation, at its step
        assert history(client, run.info.run_id, column) == [
            (int(r["step"]), pytest.approx(float(r[column]), rel=1e-9)) for r in rows
        ], column
    for key in ("final_test_acc", "best_val_acc", "params_total", "train_seconds"):  # the summary's numbers
        assert run.data.metrics[key] == pytest.approx(summary[key]), key
    tags = run.data.tags
    assert tags["sharebench.status"] == "completed" and tags["sharebench.seed"] == "0"
    assert tags["sharebench.torch_version"] == summary["torch_version"] and "sharebench.git_commit" in tags
    assert {
        "summary.json",
        "metrics.csv",
        "steps.csv",
        "params.csv",
        "plots/accuracy.png",
        "plots/loss.png",
    } <= artifacts(client, run.info.run_id)


def test_an_interrupted_run_is_killed_then_resumed_into_the_same_mlflow_run(tmp_path, store):
    cfg = make_cfg(
        *TINY, "trainer.max_steps=9", "trainer.eval_every=3", "logger=mlflow", f"logger.tracking_uri={store}"
    )
    calls = iter(range(10**9))
    first = experiment.run(cfg, tmp_path, should_stop=lambda: next(calls) >= 4)
    client, rid = MlflowClient(store), run_id(tmp_path)
    assert first["status"] == "interrupted" and client.get_run(rid).info.status == "KILLED"
    final = experiment.run(cfg, tmp_path, resume=load_checkpoint(tmp_path))
    assert final["status"] == "completed" and run_id(tmp_path) == rid
    assert client.get_run(rid).info.status == "FINISHED"
    assert [s for s, _ in history(client, rid, "test_acc")] == [3, 6, 9]
    assert len(client.search_runs([client.get_run(rid).info.experiment_id])) == 1


def test_a_run_begun_without_mlflow_brings_its_evaluations_so_far_when_resumed_with_it(tmp_path, store):
    csv = make_cfg(*TINY, "trainer.max_steps=9", "trainer.eval_every=3")
    calls = iter(range(10**9))
    assert experiment.run(csv, tmp_path, should_stop=lambda: next(calls) >= 4)["status"] == "interrupted"
    resumed = make_cfg(
        *TINY, "trainer.max_steps=9", "trainer.eval_every=3", "logger=mlflow", f"logger.tracking_uri={store}"
    )
    assert experiment.run(resumed, tmp_path, resume=load_checkpoint(tmp_path))["status"] == "completed"
    rows = read_csv(tmp_path / "metrics.csv")
    assert history(MlflowClient(store), run_id(tmp_path), "test_acc") == [
        (int(r["step"]), pytest.approx(float(r["test_acc"]))) for r in rows
    ]
    assert [int(r["step"]) for r in rows] == [3, 6, 9]


def test_diverged_and_crashed_runs_end_failed(tmp_path, store, monkeypatch):
    diverging = make_cfg(
        *DIVERGING,
        "logger=mlflow",
        f"logger.tracking_uri={store}",
    )
    assert experiment.run(diverging, tmp_path / "diverged")["status"] == "diverged"
    client = MlflowClient(store)
    run = client.get_run(run_id(tmp_path / "diverged"))
    assert run.info.status == "FAILED" and run.data.tags["sharebench.status"] == "diverged"

    def crash(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(experiment, "fit", crash)
    crashing = make_cfg(*SHORT, "logger=mlflow", f"logger.tracking_uri={store}")
    assert job.run_job(crashing, str(tmp_path / "crashed"), {}, multirun=True) is None
    assert read_summary(tmp_path / "crashed")["status"] == "failed"
    assert client.get_run(run_id(tmp_path / "crashed")).info.status == "FAILED"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_tracker_costs_the_run_one_warning_line(tmp_path, caplog):
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.perf_counter()
    summary = experiment.run(make_cfg(*SHORT, "logger=mlflow", f"logger.tracking_uri={uri}"), tmp_path)
    took = time.perf_counter() - started
    assert summary["status"] == "completed" and len(read_csv(tmp_path / "metrics.csv")) == 2
    warned = [r.getMessage() for r in caplog.records if "MLflow" in r.getMessage()]
    assert len(warned) == 1 and uri in warned[0] and "CSV only" in warned[0]
    assert "MlflowException" in warned[0]  # the HTTP request itself failed, nothing before it
    assert not (tmp_path / RUN_FILE).exists()
    assert took < 90, f"an unreachable tracker held the run {took:.0f} s (MLflow's retries not shortened?)"


@contextmanager
def mlflow_serving(command: str, store: str, *options: str, cwd: Path):
    """`mlflow <command>` (ui or server) on `store`, run as a user runs it: the `mlflow` executable installed
    beside this Python, in this environment as it is (no PYTHONPATH); yields its URI once it answers."""
    exe = Path(sys.executable).with_name("mlflow")
    assert exe.exists(), f"{exe}: the mlflow extra installs MLflow's command beside sharebench's"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    args = [str(exe), command, "--backend-store-uri", store, *options, "--host", "127.0.0.1", "--port", str(port)]
    log = cwd / f"mlflow-{command}.log"  # a file, not a pipe: a server's log lines never block it
    with log.open("w") as sink:
        server = subprocess.Popen(
            args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=sink, start_new_session=True, env=env
        )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 300  # minutes on a busy 2-core machine
        while True:
            try:
                urllib.request.urlopen(f"{uri}/health", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"mlflow {command} exited {server.returncode}: {log.read_text()[-2000:]}")
                assert time.time() < deadline, f"mlflow {command} did not answer in 300 s"
                time.sleep(0.5)
        yield uri
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def rest(uri: str, endpoint: str, body: dict | None = None) -> dict:
    """One call of MLflow's REST API: a GET, or a POST of `body` as JSON."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{uri}/api/2.0/mlflow/{endpoint}", data=data,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_mlflow_ui_opens_the_store_a_run_wrote_and_serves_the_run(tmp_path, template_store):
    """The docs' commands in one environment: `sharebench run logger=mlflow`, then `mlflow ui` on the
    store it wrote (results/mlflow.db; migrated already, from the template), read over HTTP."""
    (tmp_path / "results").mkdir()
    shutil.copy(template_store, tmp_path / "results" / "mlflow.db")
    out = sharebench("run", "logger=mlflow", *SHORT, "model=mlp", "trainer.plots=false", cwd=tmp_path,
                     env={"OMP_NUM_THREADS": "1"})  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    (run,) = tmp_path.glob("results/runs/*/*")
    summary = read_summary(run)
    with mlflow_serving("ui", "sqlite:///results/mlflow.db", cwd=tmp_path) as uri:
        experiment_id = rest(uri, "experiments/get-by-name?experiment_name=sharebench")["experiment"]["experiment_id"]
        (found,) = rest(uri, "runs/search", {"experiment_ids": [experiment_id]})["runs"]
    assert found["info"]["run_id"] == run_id(run) and found["info"]["status"] == "FINISHED"
    metrics = {m["key"]: m["value"] for m in found["data"]["metrics"]}
    params = {p["key"]: p["value"] for p in found["data"]["params"]}
    tags = {t["key"]: t["value"] for t in found["data"]["tags"]}
    assert metrics["final_test_acc"] == pytest.approx(summary["final_test_acc"])
    assert params["trainer.max_steps"] == "6" and tags["sharebench.model"] == "mlp"


@pytest.mark.slow
def test_a_sweep_over_http_is_a_parent_run_with_its_jobs_nested(tmp_path, template_store):
    shutil.copy(template_store, tmp_path / "server.db")
    store, artifacts_dir = f"sqlite:///{tmp_path / 'server.db'}", str(tmp_path / "server-artifacts")
    with mlflow_serving(
        "server", store, "--artifacts-destination", artifacts_dir, "--workers", "1", cwd=tmp_path
    ) as uri:
        out = sharebench(
            "run", "-m", "logger=mlflow", f"logger.tracking_uri={uri}", "model=shared_cnn,mlp", *SHORT,
            "trainer.plots=false", cwd=tmp_path, env={"OMP_NUM_THREADS": "1"},
        )  # fmt: skip
        assert out.returncode == 0, out.stderr[-3000:]
        assert "MLflow" not in out.stdout + out.stderr  # no warning: everything reached the server
        (sweep,) = (tmp_path / "results" / "multirun").glob("*/*")
        parent_id = json.loads((sweep / SWEEP_FILE).read_text())["run_id"]
        client = MlflowClient(uri)
        parent = client.get_run(parent_id)
        assert parent.info.status == "FINISHED" and parent.data.params["model"] == "shared_cnn,mlp"
        assert {"comparison/comparison.csv", "multirun.yaml"} <= artifacts(client, parent_id)
        children = client.search_runs([parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent_id}'")
        assert sorted(c.info.run_name for c in children) == ["model=mlp", "model=shared_cnn"]
        for child in children:
            assert child.info.status == "FINISHED" and child.data.tags["sharebench.seed"] == "0"
            overrides = child.data.tags["sharebench.overrides"].split()  # as Hydra saved them
            assert overrides[0] == "logger=mlflow" and child.info.run_name in overrides
            job_dir = sweep / str(["model=shared_cnn", "model=mlp"].index(child.info.run_name))
            assert run_id(job_dir) == child.info.run_id
            assert [s for s, _ in history(client, child.info.run_id, "test_acc")] == [3, 6]
            assert "metrics.csv" in artifacts(client, child.info.run_id)


def killed_mid_way(tmp_path: Path, store: str, steps: int, ready) -> Path:
    """A real `sharebench run logger=mlflow` (a checkpoint every ~0.2 s), SIGKILLed once `ready(run dir)`
    after its MLflow run is open: the run dir."""
    args = [
        str(Path(sys.executable).with_name("sharebench")), "run", "logger=mlflow", f"logger.tracking_uri={store}",
        *TINY, "model=mlp", f"trainer.max_steps={steps}", "trainer.eval_every=50", "trainer.checkpoint_every=0.2",
        "trainer.plots=false",
    ]  # fmt: skip
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    try:
        while True:
            runs = list(tmp_path.glob("results/runs/*/*"))
            if runs and (runs[0] / RUN_FILE).exists() and (runs[0] / "checkpoint.pt").exists() and ready(runs[0]):
                return runs[0]
            assert proc.poll() is None and time.time() < deadline, "the run ended before it could be killed"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_a_run_killed_mid_way_keeps_in_mlflow_every_evaluation_its_checkpoint_holds(tmp_path, store):
    """Evaluations reach MLflow together, at each checkpoint: a SIGKILL loses there at most those after
    the last checkpoint, which metrics.csv still has and a resumed run computes again."""

    def ready(run: Path) -> bool:  # a checkpoint written after MLflow's run opened, with 3 evaluations or more
        opened = (run / RUN_FILE).stat().st_mtime_ns
        return (run / "checkpoint.pt").stat().st_mtime_ns > opened and len(load_checkpoint(run).metrics) >= 3

    run = killed_mid_way(tmp_path, store, 50_000, ready)
    kept = {int(r["step"]): float(r["test_acc"]) for r in load_checkpoint(run).metrics}
    rows = {int(r["step"]): float(r["test_acc"]) for r in read_csv(run / "metrics.csv")}
    logged = dict(history(MlflowClient(store), run_id(run), "test_acc"))
    assert len(kept) >= 3 and set(kept) <= set(logged) <= set(rows)
    assert all(logged[step] == pytest.approx(rows[step]) for step in logged)
    assert all(step > max(kept) for step in set(rows) - set(logged))  # lost: only what the checkpoint lost


@pytest.mark.slow
def test_a_run_killed_mid_way_resumes_into_the_same_mlflow_run(tmp_path, store):
    run = killed_mid_way(tmp_path, store, 2000, lambda run: len(read_csv(run / "metrics.csv")) > 2)
    rid, client = run_id(run), MlflowClient(store)
    assert client.get_run(rid).info.status == "RUNNING"  # killed -9: nobody could say otherwise
    out = sharebench("run", f"resume={run}", cwd=tmp_path, env={"OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-3000:]
    assert run_id(run) == rid and client.get_run(rid).info.status == "FINISHED"
    rows = read_csv(run / "metrics.csv")
    logged = dict(history(client, rid, "test_acc"))  # an evaluation after the last checkpoint comes twice
    assert sorted(logged) == [int(r["step"]) for r in rows] and max(logged) == 2000
    assert all(logged[int(r["step"])] == pytest.approx(float(r["test_acc"])) for r in rows)
    assert len(client.search_runs([client.get_run(rid).info.experiment_id])) == 1
