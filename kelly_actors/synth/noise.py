"""Counter-based noise: every random sample is a pure function of (key, absolute sample time).

A running random generator makes a voice's noise depend on everything drawn before it (which
slot the voice landed in, how many blocks that slot rendered). Here a voice's noise stream is
``hash(key, t)`` with ``key = voice_key(seed, note start sample, channel, note)``, so two
synths fed the same events draw the same noise whatever their history, and a synth rebuilt in
the middle of a note draws exactly the samples the note would have had.

The hash is SplitMix64 (Steele, Lea & Flood 2014; the finaliser of ``java.util.SplittableRandom``):
``z = key + t·γ`` (mod 2^64, γ the 64-bit golden ratio), then two xor-shift-multiply rounds. The
top 24 bits map to ``m·2⁻²³ − 1``: uniform on 2^24 values in [−1, 1), each exactly representable
in float32 (held in float64 here, as the DSP computes in float64).

:class:`FramedNoise` filters each voice's stream with a fixed FIR by FFT on **absolute** frames
of :data:`NOISE_FRAME` samples (frame ``k`` covers ``[k·F, (k+1)·F)``), overlap-adding the
previous frame's tail. The filtered value at sample ``t`` is therefore also a pure function of
(key, filter, ``t``): rendering in any blocks gives bit-identical samples and there is no
history to rebuild, only the two frames around the sample to compute.
"""

from __future__ import annotations

# numpy loads numpy.fft lazily: load it with this module (in the forkserver, which preloads
# the actor modules), not on a restarted synth's first note, where it costs ~10 ms.
import numpy as np
import numpy.fft

__all__ = ["NOISE_FRAME", "FramedNoise", "hash_uniform", "voice_key"]

_M64 = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB
_U_GAMMA = np.uint64(_GAMMA)
_U_MUL1 = np.uint64(_MUL1)
_U_MUL2 = np.uint64(_MUL2)
_SCALE = 2.0**-23  # 24 bits → [0, 2)

#: Samples per noise filter frame (a power of two; 256 + the 127-sample tail fits a 512 FFT).
NOISE_FRAME = 256


def _mix64(x: int) -> int:
    """SplitMix64 of a Python int (mod 2^64)."""
    z = (x + _GAMMA) & _M64
    z = ((z ^ (z >> 30)) * _MUL1) & _M64
    z = ((z ^ (z >> 27)) * _MUL2) & _M64
    return z ^ (z >> 31)


def voice_key(seed: int, start: int, channel: int, note: int) -> int:
    """64-bit stream key of one note: its seed, start sample, MIDI channel and note number."""
    key = _mix64(seed & _M64)
    key = _mix64(key ^ (start & _M64))
    return _mix64(key ^ (((channel & 0xFF) << 8) | (note & 0xFF)))


def hash_uniform(keys: np.ndarray, t0: int, out: np.ndarray, work: np.ndarray) -> np.ndarray:
    """White noise of streams ``keys`` at samples ``t0 … t0 + n − 1``.

    Args:
        keys: uint64 ``(v,)`` stream keys (:func:`voice_key`).
        t0: absolute sample time (≥ 0) of column 0.
        out: float64 ``(v, n)`` to fill with values in [−1, 1) (multiples of 2⁻²³).
        work: uint64 array of at least ``v·n`` elements, ``(V, N)`` with ``V ≥ v``, ``N ≥ n``
            (scratch, so the hot path allocates nothing of size ``v·n``).

    Returns:
        ``out``.
    """
    v, n = out.shape
    z = work[:v, :n]
    # Counter per column: (t0 + i)·γ, wrapping mod 2^64 as uint64 arithmetic does.
    counter = np.arange(t0, t0 + n, dtype=np.int64).view(np.uint64)
    np.multiply(counter, _U_GAMMA, out=counter)
    np.add(keys[:, None], counter[None, :], out=z)
    np.bitwise_xor(z, z >> np.uint64(30), out=z)
    np.multiply(z, _U_MUL1, out=z)
    np.bitwise_xor(z, z >> np.uint64(27), out=z)
    np.multiply(z, _U_MUL2, out=z)
    # SplitMix's last step (z ^= z >> 31) cannot change the top 24 bits used here.
    np.right_shift(z, np.uint64(40), out=z)
    np.copyto(out, z, casting="unsafe")
    out *= _SCALE
    out -= 1.0
    return out


def _next_pow2(n: int) -> int:
    return 1 << max(0, int(n - 1).bit_length())


class FramedNoise:
    """Filtered noise of ``n_slots`` voice slots (see the module docstring).

    Per slot: the stream key, the filter's spectrum (``rfft`` of its impulse response,
    complex128 ``(n_fft // 2 + 1,)``), and a cache of the last frame computed: its output
    float64 ``(F,)``, the tail it leaves on the next frame ``(L − 1,)`` and its index.

    Args:
        n_slots: voice slots.
        ir_len: impulse response length ``L`` (samples).
        frame: ``F``, samples per frame.
    """

    def __init__(self, n_slots: int, ir_len: int, frame: int = NOISE_FRAME) -> None:
        self.frame = frame
        self.n_tail = ir_len - 1
        self.n_fft = _next_pow2(frame + self.n_tail)
        self.keys = np.zeros(n_slots, np.uint64)
        self.spectrum = np.zeros((n_slots, self.n_fft // 2 + 1), np.complex128)
        self.out = np.zeros((n_slots, frame))
        self.tail = np.zeros((n_slots, self.n_tail))
        self.k = np.full(n_slots, np.iinfo(np.int64).min, np.int64)
        self._white = np.zeros((n_slots, frame))
        self._work = np.zeros((n_slots, frame), np.uint64)

    def spectrum_of(self, impulse_response: np.ndarray) -> np.ndarray:
        """``rfft`` of a float64 ``(L,)`` impulse response at this bank's FFT size."""
        return np.fft.rfft(impulse_response, n=self.n_fft)

    def start(self, slot: int, key: int, spectrum: np.ndarray) -> None:
        """Give ``slot`` a new stream and filter; nothing is cached for it yet."""
        self.keys[slot] = key
        self.spectrum[slot] = spectrum
        self.k[slot] = np.iinfo(np.int64).min

    def copy(self, src: int, dst: int) -> None:
        """Move a voice to another slot (a steal's ghost): same stream, same cache."""
        for arr in (self.keys, self.spectrum, self.out, self.tail, self.k):
            arr[dst] = arr[src]

    def _filtered(self, slots: np.ndarray, k: int) -> np.ndarray:
        """Frame ``k`` of ``slots`` convolved whole: float64 ``(v, F + L − 1)``."""
        white = hash_uniform(self.keys[slots], k * self.frame, self._white[: slots.size],
                             self._work)  # fmt: skip
        spec = np.fft.rfft(white, n=self.n_fft, axis=-1)
        spec *= self.spectrum[slots]
        return np.fft.irfft(spec, n=self.n_fft, axis=-1)[:, : self.frame + self.n_tail]

    def _ensure(self, slots: np.ndarray, k: int) -> None:
        """Make frame ``k`` the cached frame of every slot in ``slots``."""
        need = slots[self.k[slots] != k]
        if need.size == 0:
            return
        fresh = need[self.k[need] != k - 1]
        if fresh.size:  # no frame k−1 to take the tail from: compute it (only its tail counts)
            self.tail[fresh] = self._filtered(fresh, k - 1)[:, self.frame :]
        full = self._filtered(need, k)
        head = full[:, : self.frame]
        head[:, : self.n_tail] += self.tail[need]
        self.out[need] = head
        self.tail[need] = full[:, self.frame :]
        self.k[need] = k

    def render(self, slots: np.ndarray, t: int, out: np.ndarray) -> np.ndarray:
        """Filtered noise of ``slots`` at samples ``[t, t + n)`` into float64 ``out (v, n)``."""
        n = out.shape[1]
        pos = 0
        while pos < n:
            k, first = divmod(t + pos, self.frame)
            self._ensure(slots, k)
            m = min(self.frame - first, n - pos)
            out[:, pos : pos + m] = self.out[slots, first : first + m]
            pos += m
        return out
