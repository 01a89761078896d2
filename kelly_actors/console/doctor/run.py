"""Run every check against a performance config and print the checklist."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kelly_actors.audio.actor import AudioConfig
from kelly_actors.audio.backends.choice import AUTO, choose
from kelly_actors.config.performance import PerformanceConfig
from kelly_actors.config.typed import ConfigError, from_mapping
from kelly_actors.console.doctor.audio import check_audio, check_choice
from kelly_actors.console.doctor.cpu import MAX_LOAD, check_cpu
from kelly_actors.console.doctor.jack import check_jack
from kelly_actors.console.doctor.loopback import check_loopback
from kelly_actors.console.doctor.machine import check_machine
from kelly_actors.console.doctor.midi import check_midi
from kelly_actors.console.doctor.models import check_models
from kelly_actors.console.doctor.privacy import check_privacy
from kelly_actors.console.doctor.realtime import check_realtime
from kelly_actors.console.doctor.result import SKIP, CheckResult

AUDIO_TARGET = "kelly_actors.audio.actor:AudioActor"
COMPOSER_TARGET = "kelly_actors.composer.actor:ComposerActor"
SYNTH_TARGET = "kelly_actors.synth.actor:SynthActor"


@dataclass(frozen=True)
class DoctorOptions:
    """``models_dir``: where shipped models live; ``max_load``: CPU load that fails (0–1);
    ``run_dir`` / ``record_dir``: the directories whose privacy is checked (None: not)."""

    models_dir: Path
    max_load: float = MAX_LOAD
    run_dir: Path | None = None
    record_dir: Path | None = None


def _options(config: PerformanceConfig, target: str) -> dict | None:
    spec = next((a for a in config.actors if a.target == target), None)
    return None if spec is None else dict(spec.options)


def run_checks(config: PerformanceConfig, options: DoctorOptions) -> list[CheckResult]:
    """Every check, in the order a performer would fix them."""
    audio_options = _options(config, AUDIO_TARGET)
    try:
        audio = from_mapping(AudioConfig, audio_options or {}, "audio options")
    except ConfigError as exc:
        return [CheckResult("config", "fail", str(exc))]
    chosen: list[CheckResult] = []
    if audio_options is not None and audio.backend == AUTO:
        # The rest is checked on the device kelly run would pick here now.
        choice = choose(audio.sample_rate, audio.block_size, audio.input_channels)
        chosen.append(check_choice(choice))
        resolved = {**audio_options, **dict(choice.options)}
        audio = from_mapping(AudioConfig, resolved, "audio options")
    composer = _options(config, COMPOSER_TARGET)
    # The composer's [actors.options.midi] table; its port defaults to JACK.
    midi = (composer or {}).get("midi") or {}
    midi_api = str(midi.get("api", "jack")) if composer is not None else "none"
    jack_audio = audio.backend == "jack" or (
        audio.backend == "sounddevice" and "jack" in audio.host_api.lower()
    )
    results = list(chosen)
    if jack_audio or midi_api == "jack":
        results.append(check_jack(audio.sample_rate, audio.block_size))
    else:
        results.append(CheckResult("JACK", SKIP, "this config does not use JACK"))
    if jack_audio and not results[-1].failed:
        results.append(check_machine())
    if audio_options is None:
        results.append(CheckResult("audio device", SKIP, "this config has no audio actor"))
    else:
        results.append(check_audio(audio))
    results.append(check_midi(midi_api, str(midi.get("connect", ""))))
    model_results, timings = check_models(options.models_dir)
    results.extend(model_results)
    synth = _options(config, SYNTH_TARGET) or {}
    results.append(
        check_cpu(
            audio.sample_rate,
            audio.block_size,
            str(synth.get("preset", "strings")),
            sum(t.steady_ms for t in timings),
            options.max_load,
        )
    )
    results.append(check_loopback(audio))
    if options.run_dir is not None:
        results.append(check_privacy(options.run_dir, options.record_dir))
    # The machine's real-time setup: warnings, whatever the config (cheap, and the next
    # config may use JACK).
    results.extend(check_realtime())
    return results


def report(results: list[CheckResult], out: IO[str]) -> bool:
    """Print the checklist and a verdict; True when nothing failed."""
    for result in results:
        out.write(result.line() + "\n")
    failed = [r.name for r in results if r.failed]
    out.write(f"FAILED: {', '.join(failed)}\n" if failed else "ready for the show\n")
    out.flush()
    return not failed
