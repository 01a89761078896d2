"""The web console's pieces on their own: settings, training arguments, the progress a
run publishes, cancelling a real ``kelly train`` process group."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest
from performance import wait_until

from kelly_actors.config.typed import ConfigError
from kelly_actors.web import settings as web_settings
from kelly_actors.web.security import host_allowed
from kelly_actors.web.training import Trainer, TrainingError, pipeline_args
from training.progress import Progress


def test_a_network_address_needs_tls_or_insecure_lan_and_tls_needs_both_files() -> None:
    with pytest.raises(ConfigError, match="insecure-lan"):
        web_settings.load(None, {"host": "0.0.0.0"})
    assert web_settings.load(None, {"host": "0.0.0.0", "insecure_lan": True}).scheme == "http"
    with pytest.raises(ConfigError, match="both certfile and keyfile"):
        web_settings.load(None, {"certfile": "cert.pem"})
    with pytest.raises(ConfigError, match="at least 16"):
        web_settings.load(None, {"token": "short"})
    with pytest.raises(ConfigError, match="port"):
        web_settings.load(None, {"port": 70000})


def test_a_web_table_in_toml_is_read_and_the_command_line_wins(tmp_path: Path) -> None:
    config = tmp_path / "web.toml"
    config.write_text('[web]\nport = 9123\ntakes_dirs = ["takes"]\nmax_body_bytes = 4096\n')
    loaded = web_settings.load(config, {"port": 0, "run_dir": str(tmp_path)})
    assert loaded.port == 0 and loaded.max_body_bytes == 4096
    assert loaded.takes_dirs == (str(Path("takes").resolve()), str(tmp_path / "recordings"))
    assert loaded.training_dir == tmp_path / "web-training"
    config.write_text("[web]\nbind = '0.0.0.0'\n")
    with pytest.raises(ConfigError, match="unknown key"):
        web_settings.load(config, {})


def test_training_arguments_keep_every_output_inside_the_run_s_directory(tmp_path: Path) -> None:
    job = tmp_path / "job"
    args = pipeline_args("emotion", job, True, {"steps": 3, "seed": 1})
    assert args == ["--quick", "--seed", "1", "--epochs", "3", "--out", str(job),
                    "--checkpoints", str(job / "ckpt")]  # fmt: skip
    assert pipeline_args("transformer", job, False, {})[-1] == str(job / "transformer.onnx")
    for kind, options in (("ddsp", {}), ("ddsp", {"instrument": "kazoo"}),
                          ("emotion", {"steps": True}), ("emotion", {"steps": -1}),
                          ("emotion", {"out": "/etc"}), ("bash", {})):  # fmt: skip
        with pytest.raises(TrainingError):
            pipeline_args(kind, job, True, options)


def test_the_page_reads_stage_eta_and_a_loss_curve_from_what_training_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer = Trainer(tmp_path, tmp_path / "train")
    trainer.kind = "emotion"
    trainer.proc = type("Proc", (), {"pid": os.getpid()})()  # type: ignore[assignment]
    target = trainer.progress_file()
    assert target is not None
    monkeypatch.setenv("KELLY_PROGRESS_FILE", str(target))
    bar = Progress(10, "train", stream=open(os.devnull, "w"))  # noqa: SIM115
    for step, loss in enumerate((2.5, 1.25, 0.5), start=1):
        bar.published = 0.0  # publish every step (it publishes at most once a second)
        bar.update(step, f"loss {loss}")
        assert trainer.refresh()
    bar.stream.close()
    assert trainer.loss == [(1, 2.5), (2, 1.25), (3, 0.5)]
    assert trainer.progress["stage"] == "train" and trainer.progress["done"] == 3
    assert not trainer.refresh()  # nothing new


@pytest.mark.slow
def test_cancel_ends_the_training_process_group(tmp_path: Path) -> None:
    trainer = Trainer(tmp_path / "run", tmp_path / "train")
    started = trainer.start("ddsp", False, {"instrument": "flute"})  # a full run: minutes
    assert started["state"] == "running"
    with pytest.raises(TrainingError, match="still going"):
        trainer.start("ddsp", True, {"instrument": "flute"})
    pid = trainer.proc.pid if trainer.proc else 0
    # Cancel once kelly train has started its pipeline: the group's SIGTERM must reach both.
    pipeline = wait_until(lambda: psutil.Process(pid).children(), 30, "the pipeline process")
    assert trainer.cancel()["state"] == "cancelling"
    wait_until(lambda: not trainer.running, 30, "the run to end")
    state = trainer.state()
    assert state["state"] == "cancelled" and state["tail"] is not None
    wait_until(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                               for p in pipeline), 30, "the pipeline to end")  # fmt: skip


def test_a_host_name_is_accepted_only_when_configured_addresses_always() -> None:
    names = web_settings.load(
        None, {"host": "0.0.0.0", "insecure_lan": True, "allowed_hosts": ("stage.local",)}
    ).host_names
    assert host_allowed("stage.local:8770", names) and host_allowed("192.168.1.20:8770", names)
    assert host_allowed("[::1]:8770", names) and host_allowed("localhost:8770", names)
    assert not host_allowed("rebound.example:8770", names)
    assert not host_allowed("stage.local.evil.example", names)
    assert not host_allowed("[bad", names)
