"""kelly top's audio panel shows the clock's Link session when there is one."""

from __future__ import annotations

from kelly_actors.console import view


def test_the_audio_panel_shows_peers_tempi_phase_and_lock() -> None:
    link = {
        "enabled": True, "mode": "follow", "peers": 2, "session_tempo": 250.0, "tempo": 212.5,
        "phase": 1.234, "quantum": 4, "locked": False, "slewing": True, "clamped": False,
        "tempo_jumps": 1, "tempo_clamped": 0,
    }  # fmt: skip
    assert view.link_line(link) == (
        "link follow  peers 2  session 250.00 bpm, ours 212.50  phase 1.23/4  slewing  "
        "jumps 1  clamped 0"
    )
    snapshot = {
        "actors": [
            {"name": "audio", "state": "ready", "telemetry": {"period_ms": 5.33, "link": link}}
        ]
    }
    assert view.link_line(link) in view.audio_lines(snapshot, {})
    snapshot["actors"][0]["telemetry"]["link"] = {"enabled": False, "error": None}
    assert not any(line.startswith("link ") for line in view.audio_lines(snapshot, {}))
