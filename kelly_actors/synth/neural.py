"""Neural DDSP voices: a trained decoder (ONNX) drives the harmonic-plus-noise functions.

A timbre model is ``models/ddsp-<instrument>.onnx`` plus its card ``models/ddsp-<instrument>.json``
(the card's ``runtime`` table says how to drive it; see ``docs/neural_ddsp.md``). The decoder
runs one frame per :attr:`NeuralTimbre.hop` samples for a batch of voices, with its GRU state
carried per voice:

    f0_hz (B, 1) Hz, loudness_db (B, 1) dBFS, emotion (B, 3), state (B, H)
        → amplitude (B, 1), harmonic_distribution (B, 64), noise_magnitudes (B, 65), state_out

Frames sit on a global grid (multiples of ``hop`` in absolute samples) and are computed one
frame ahead: when rendering reaches grid point ``g`` the frame for ``g + hop`` is decoded, and
samples in ``(g, g + hop]`` interpolate linearly between the two (the noise filter of a span
is the later frame's, its tail carried — the training synthesizer's exact layout). A voice that
starts at ``τ`` between grid points interpolates from silence at ``τ``. Everything depends only
on absolute sample times, so rendering in blocks of any size gives the same samples.

A MIDI note has no loudness of its own: :meth:`NeuralTimbre.note_loudness_db` maps velocity and
the voice's ADSR envelope to dBFS with a line fitted on the training data (in the card).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kelly_actors.synth import ddsp

N_HARMONICS = 64
N_NOISE_BANDS = 65
IR_LEN = 2 * (N_NOISE_BANDS - 1)
INPUTS = ("f0_hz", "loudness_db", "emotion", "state")
OUTPUTS = ("amplitude", "harmonic_distribution", "noise_magnitudes", "state_out")

__all__ = ["NeuralBank", "NeuralTimbre", "TimbreError", "TimbreRuntime"]


class TimbreError(Exception):
    """A timbre model that cannot be used (missing, unreadable, wrong shape); the message
    says which file and why."""


@dataclass(frozen=True)
class TimbreRuntime:
    """The card's ``runtime`` table.

    Attributes:
        instrument: e.g. ``"violin"``.
        hidden: GRU state size H.
        hop: samples per decoder frame at ``sample_rate``.
        sample_rate: Hz the model was trained at.
        db_at_127: loudness (dBFS) of a sustained note at velocity 127.
        db_per_velocity_db: slope of loudness against ``20·log10(velocity / 127)``.
        floor_db: loudness of silence fed to the decoder.
    """

    instrument: str
    hidden: int
    hop: int
    sample_rate: int
    db_at_127: float
    db_per_velocity_db: float
    floor_db: float = -90.0

    @staticmethod
    def from_card(card: dict) -> TimbreRuntime:
        rt = card["runtime"]
        return TimbreRuntime(
            instrument=str(card["instrument"]),
            hidden=int(rt["hidden"]),
            hop=int(rt["hop"]),
            sample_rate=int(rt["sample_rate"]),
            db_at_127=float(rt["db_at_127"]),
            db_per_velocity_db=float(rt["db_per_velocity_db"]),
            floor_db=float(rt.get("floor_db", -90.0)),
        )


class NeuralTimbre:
    """A loaded decoder session. Use :meth:`load`; every failure is a :class:`TimbreError`."""

    def __init__(self, path: Path, runtime: TimbreRuntime, session) -> None:
        self.path = path
        self.runtime = runtime
        self.name = runtime.instrument
        self.hidden = runtime.hidden
        self.hop = runtime.hop
        self._session = session
        self.calls = 0
        self.total_us = 0.0
        self.last_us = 0.0
        self.max_us = 0.0

    @staticmethod
    def load(path: str | Path, threads: int = 1) -> NeuralTimbre:
        """Open ``path`` (``.onnx``) and its card (same name, ``.json``), check the graph's
        inputs and outputs and run one probe frame."""
        import onnxruntime as ort

        path = Path(path)
        card_path = path.with_suffix(".json")
        if not path.is_file():
            raise TimbreError(f"timbre model {path} does not exist")
        if not card_path.is_file():
            raise TimbreError(f"timbre model {path} has no card {card_path.name}")
        try:
            runtime = TimbreRuntime.from_card(json.loads(card_path.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            raise TimbreError(f"card {card_path} is invalid: {exc!r}") from None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise TimbreError(f"timbre model {path} cannot be loaded: {exc}") from None
        names_in = tuple(i.name for i in session.get_inputs())
        names_out = tuple(o.name for o in session.get_outputs())
        if names_in != INPUTS or names_out != OUTPUTS:
            raise TimbreError(
                f"timbre model {path} has inputs {names_in} and outputs "
                f"{names_out}; expected {INPUTS} → {OUTPUTS}"
            )
        timbre = NeuralTimbre(path, runtime, session)
        try:
            amp, dist, noise, _ = timbre.decode(
                np.array([440.0]),
                np.array([-30.0]),
                (0.0, 0.5, 0.5),
                np.zeros((1, runtime.hidden), np.float32),
            )
        except Exception as exc:
            raise TimbreError(f"timbre model {path} fails on a probe frame: {exc}") from None
        if dist.shape != (1, N_HARMONICS) or noise.shape != (1, N_NOISE_BANDS):
            raise TimbreError(f"timbre model {path} returns {dist.shape} / {noise.shape}")
        if not (np.isfinite(amp).all() and np.isfinite(dist).all() and np.isfinite(noise).all()):
            raise TimbreError(f"timbre model {path} returns non-finite values")
        timbre.calls = 0
        timbre.total_us = timbre.max_us = 0.0
        return timbre

    def decode(
        self,
        f0_hz: np.ndarray,
        loudness_db: np.ndarray,
        emotion: tuple[float, float, float],
        state: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One frame for B voices.

        Args:
            f0_hz, loudness_db: ``(B,)`` Hz and dBFS.
            emotion: (valence, arousal, dominance) for all B.
            state: float32 ``(B, H)``.

        Returns:
            amplitude float64 ``(B,)``, distribution ``(B, 64)``, noise magnitudes
            ``(B, 65)``, new state float32 ``(B, H)``.
        """
        b = int(np.shape(f0_hz)[0])
        feeds = {
            "f0_hz": np.asarray(f0_hz, np.float32).reshape(b, 1),
            "loudness_db": np.asarray(loudness_db, np.float32).reshape(b, 1),
            "emotion": np.tile(np.asarray(emotion, np.float32), (b, 1)),
            "state": np.ascontiguousarray(state, np.float32),
        }
        t0 = time.perf_counter()
        amp, dist, noise, new_state = self._session.run(None, feeds)
        us = (time.perf_counter() - t0) * 1e6
        self.calls += 1
        self.total_us += us
        self.last_us = us
        self.max_us = max(self.max_us, us)
        return amp[:, 0].astype(np.float64), dist.astype(np.float64), noise, new_state

    @property
    def mean_us(self) -> float:
        """Mean decoder call time in µs (one call decodes a frame for all voices)."""
        return self.total_us / self.calls if self.calls else 0.0

    def note_loudness_db(self, velocity: np.ndarray, envelope: np.ndarray) -> np.ndarray:
        """Loudness (dBFS) of notes at MIDI ``velocity`` with ADSR ``envelope`` (0…1)."""
        rt = self.runtime
        vel_db = 20.0 * np.log10(np.maximum(np.asarray(velocity, np.float64), 1.0) / 127.0)
        env_db = 20.0 * np.log10(np.maximum(np.asarray(envelope, np.float64), 1e-5))
        loud = rt.db_at_127 + rt.db_per_velocity_db * vel_db + env_db
        return np.clip(loud, rt.floor_db, 0.0)


class NeuralBank:
    """Per-voice decoder state and frame controls of one timbre, for ``n_slots`` voice slots.

    Arrays are indexed by the synth's slot number: GRU state float32 ``(S, H)``; the two frames
    a span interpolates between (``t_prev``/``t_next`` absolute samples, amplitude, normalised
    distribution ``(S, 64)``), the noise IR of the span ``(S, 128)`` and its tail ``(S, 127)``.
    """

    def __init__(self, timbre: NeuralTimbre, n_slots: int, sample_rate: int) -> None:
        self.timbre = timbre
        self.hop = timbre.hop
        self.sample_rate = sample_rate
        self.emotion = (0.0, 0.5, 0.5)
        #: Why the decoder failed (None while it works); its voices then fade to silence.
        self.broken: str | None = None
        self.state = np.zeros((n_slots, timbre.hidden), np.float32)
        self.t_prev = np.zeros(n_slots, np.int64)
        self.t_next = np.zeros(n_slots, np.int64)
        self.amp_prev = np.zeros(n_slots)
        self.amp_next = np.zeros(n_slots)
        self.dist_prev = np.zeros((n_slots, N_HARMONICS))
        self.dist_next = np.zeros((n_slots, N_HARMONICS))
        self.ir = np.zeros((n_slots, IR_LEN))
        self.tail = np.zeros((n_slots, IR_LEN - 1))
        self._arrays = (
            "state",
            "t_prev",
            "t_next",
            "amp_prev",
            "amp_next",
            "dist_prev",
            "dist_next",
            "ir",
            "tail",
        )

    def copy_slot(self, src: int, dst: int) -> None:
        """Move a voice's decoder state to another slot (voice stealing, crossfades)."""
        for name in self._arrays:
            arr = getattr(self, name)
            arr[dst] = arr[src]

    def _decode_into(
        self, slots: np.ndarray, f0: np.ndarray, loud: np.ndarray, ceiling: np.ndarray
    ) -> None:
        if self.broken is not None:
            self._silence(slots)
            return
        try:
            amp, dist, noise, state = self.timbre.decode(f0, loud, self.emotion, self.state[slots])
            if not (np.isfinite(amp).all() and np.isfinite(dist).all()):
                raise FloatingPointError("decoder returned non-finite values")
        except Exception as exc:  # any failure of the model must not stop the audio
            self.broken = f"{type(exc).__name__}: {exc}"
            self._silence(slots)
            return
        self.state[slots] = state
        self.amp_next[slots] = amp
        self.dist_next[slots] = ddsp.normalize_harmonics(dist, ceiling, self.sample_rate)
        self.ir[slots] = ddsp.frequency_impulse_response(noise.astype(np.float64))

    def _silence(self, slots: np.ndarray) -> None:
        """A failed decoder fades its voices out over one frame (harmonics and noise)."""
        self.amp_next[slots] = 0.0
        self.ir[slots] = 0.0

    def start(self, slot: int, t: int, f0: float, loudness_db: float, ceiling: float) -> None:
        """A voice starting at sample ``t``: fresh state, first frame decoded now for the next
        grid point, interpolating from silence at ``t``."""
        self.state[slot] = 0.0
        self.tail[slot] = 0.0
        self.t_prev[slot] = t
        self.t_next[slot] = (t // self.hop + 1) * self.hop
        s = np.array([slot])
        self._decode_into(s, np.array([f0]), np.array([loudness_db]), np.array([ceiling]))
        self.amp_prev[slot] = 0.0
        self.dist_prev[slot] = self.dist_next[slot]

    def render(
        self,
        slots: np.ndarray,
        t: int,
        f0: np.ndarray,
        white: np.ndarray,
        phase: np.ndarray,
        ceiling: np.ndarray,
        loudness_at: callable,
        f0_at: callable | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Samples ``[t, t + n)`` of the voices in ``slots``.

        Args:
            slots: int ``(v,)`` slot numbers (all of this bank).
            t: absolute time of the first sample.
            f0: ``(v, n)`` Hz per sample.
            white: ``(v, n)`` white noise in [−1, 1).
            phase: ``(v,)`` fundamental phase before ``t`` (radians).
            ceiling: ``(v,)`` highest f0 each voice can reach (anti-alias mask).
            loudness_at: ``f(slots, time) → (v,)`` dBFS of those voices at absolute ``time``.
            f0_at: ``f(slots, time) → (v,)`` Hz the decoder is given for the frame at absolute
                ``time``; None gives it the f0 of the sample before the grid point (a note's
                pitch is constant, so that is its pitch). Timbre transfer passes its control
                track, whose pitch moves from frame to frame.

        Returns:
            ``(audio (v, n) float64, final phase (v,))``.
        """
        n = f0.shape[1]
        out = np.empty_like(f0)
        pos = 0
        while pos < n:
            grid = int(self.t_next[slots].max()) if slots.size else t + n
            end = min(n, grid - t) if grid > t + pos else n
            m = end - pos
            now = t + pos
            span = (self.t_next[slots] - self.t_prev[slots]).astype(np.float64)
            w = (now + 1 + np.arange(m) - self.t_prev[slots, None]) / span[:, None]
            np.clip(w, 0.0, 1.0, out=w)
            amp = self.amp_prev[slots, None] + (self.amp_next - self.amp_prev)[slots, None] * w
            # Σ_k (d0 + (d1 − d0)·w) sin kφ = S(d0) + w·S(d1 − d0): two series with constant
            # coefficients are cheaper than one with per-sample coefficients (v, m, K).
            d0, d1 = self.dist_prev[slots], self.dist_next[slots]
            both = np.concatenate([d0, d1 - d0])
            f0_seg = np.concatenate([f0[:, pos:end]] * 2)
            series, phase2 = ddsp.harmonic_synthesis(
                f0_seg,
                1.0,
                both,
                self.sample_rate,
                np.concatenate([phase] * 2),
                np.concatenate([ceiling] * 2),
            )
            v = slots.size
            harm = amp * (series[:v] + w * series[v:])
            phase = phase2[:v]
            noise, tails = ddsp.fft_convolve_stream(
                white[:, pos:end], self.ir[slots], self.tail[slots]
            )
            self.tail[slots] = tails
            out[:, pos:end] = harm + noise
            pos = end
            if t + pos == grid:
                f0_now = f0[:, pos - 1] if f0_at is None else f0_at(slots, grid + self.hop)
                self._advance(slots, grid, f0_now, ceiling, loudness_at)
        return out, phase

    def _advance(self, slots, grid, f0_now, ceiling, loudness_at) -> None:
        """Reached grid point ``grid``: it becomes the previous frame; decode ``grid + hop``."""
        self.t_prev[slots] = grid
        self.amp_prev[slots] = self.amp_next[slots]
        self.dist_prev[slots] = self.dist_next[slots]
        self.t_next[slots] = grid + self.hop
        self._decode_into(slots, f0_now, loudness_at(slots, grid + self.hop), ceiling)
