"""Training progress reaches a running performance's status: published by the pipeline,
read by the supervisor, shown by `kelly top` — and a broken file or sink stops nothing."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from performance import Performance, kelly
from toml_config import tone_meter_toml

from kelly_actors.console.view import training_lines
from kelly_actors.supervisor.training_runs import ENV_FILE, ENV_NAME, SHOW_ENDED_S, training_runs
from training.progress import Progress


def test_a_bar_publishes_its_state_to_the_named_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "run" / "training" / "emotion-1.json"
    monkeypatch.setenv(ENV_FILE, str(target))
    monkeypatch.setenv(ENV_NAME, "emotion")
    bar = Progress(10, "train", stream=io.StringIO())
    bar.advance(3, "loss 0.5")
    first = json.loads(target.read_text())
    assert [first[k] for k in ("run", "stage", "done", "total")] == ["emotion", "train", 3, 10]
    assert first["extra"] == "loss 0.5" and first["pid"] == os.getpid()
    bar.advance(1)  # within a second of the last: not written again
    assert json.loads(target.read_text())["done"] == 3
    bar.update(10, "loss 0.2")
    bar.close()
    last = json.loads(target.read_text())
    assert (last["done"], last["fraction"], last["extra"]) == (10, 1.0, "loss 0.2")
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary left


def test_a_sink_that_cannot_be_written_stops_publishing_not_training(
    tmp_path: Path, monkeypatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(ENV_FILE, str(blocker / "training" / "x.json"))
    bar = Progress(5, "train", stream=io.StringIO())
    bar.advance(5)
    bar.close()
    assert bar.publish_to is None and bar.done == 5


def _write(run_dir: Path, name: str, **fields) -> None:
    state = {"run": "ddsp", "stage": "train", "done": 4, "total": 8, "fraction": 0.5,
             "eta_s": 75.0, "extra": "loss 1.25", "pid": os.getpid(), "time": time.time(),
             **fields}  # fmt: skip
    (run_dir / "training").mkdir(parents=True, exist_ok=True)
    (run_dir / "training" / name).write_text(json.dumps(state))


def test_the_status_tells_running_finished_failed_and_vanished_runs_and_skips_bad_files(
    tmp_path: Path,
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    now = time.time()
    _write(tmp_path, "a.json", time=now - 4)
    _write(tmp_path, "b.json", time=now - 3, exit_code=0, done=8, fraction=1.0)
    _write(tmp_path, "c.json", time=now - 2, exit_code=3)
    _write(tmp_path, "d.json", time=now - 1, pid=gone.pid)
    _write(tmp_path, "e.json", time=now - SHOW_ENDED_S - 1, exit_code=0)  # ended long ago
    _write(tmp_path, "f.json", done="four")  # malformed
    (tmp_path / "training" / "g.json").write_text("{not json")
    runs = training_runs(tmp_path, now)
    assert [r["state"] for r in runs] == ["running", "finished", "failed (exit 3)", "vanished"]
    assert training_lines(runs) == [
        "training ddsp · train 50% (4/8) ETA 1:15 loss 1.25",
        "training ddsp · train finished loss 1.25",
        "training ddsp · train failed (exit 3) loss 1.25",
        "training ddsp · train vanished loss 1.25",
    ]
    assert training_runs(tmp_path / "nowhere", now) == []


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_kelly_train_shows_up_in_the_running_performances_status(run_dir: Path) -> None:
    work = run_dir / "work"
    with Performance(run_dir, tone_meter_toml()) as perf:
        perf.wait_ready()
        done = kelly(
            "train", "transformer", "--quick", "--work", str(work), "--model",
            str(work / "t.onnx"), run_dir=run_dir, timeout=150,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        (run,) = perf.status()["training"]
        assert (run["run"], run["stage"], run["state"]) == ("transformer", "train", "finished")
        assert run["done"] == run["total"] and run["extra"].startswith("loss ")
        assert perf.stop() == 0
