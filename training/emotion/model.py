"""The emotion network (the original's shape) and its loss.

``EmotionNet``: raw 128-value feature frames → standardise (train-set mean/std baked in as
buffers, clipped to ±8; the timbre features of :data:`TIMBRE_PREFIXES` multiplied by 0),
joined by 18 key-invariant mode features computed from the frame's 12 chroma values
(:func:`key_features`, standardised the same way) → Dense 146→256 → tanh → LSTM 256→128
→ Dense 128→64. The mode features are part of the graph, so the input stays the 128-value
frame the inference actor sends.

With ``slow`` (the shipped model since issue 12): 18 more mode features from a 3 s moving
average of the chroma (:func:`slow_chroma`; one frame's chroma holds a chord, a few bars'
hold the key, and the tonic is what tells C ionian from A aeolian), carried from call to
call in the last 12 values of ``h`` → Dense 164→256 → tanh → LSTM 256→116 → Dense 116→64.

With ``tempo`` as well: 25 more values from a bank of 24 beat resonators on the onset
strength (:func:`beat_resonators`, :func:`tempo_features`: how the onsets' energy is spread
over 30…360 BPM, and how much there is), whose state is carried after the slow chroma in
the tails of ``h`` and ``c`` → Dense 189→256 → tanh → LSTM 256→96 → Dense 96→64. Arousal
sets the tempo, and neither one frame's onset strength nor the single running tempo
estimate (right within an octave in 3 of 4 clips, exactly in half) hears it well.

Shapes (sequence-major, like ONNX's LSTM): ``features`` float32 (T, B, 128), ``h``/``c``
float32 (1, B, 128). Outputs: ``emotion`` float32 (T, B, 4) and ``embedding`` (T, B, 64),
plus the new ``h``/``c``. The 64 Dense outputs are laid out as

* 0: valence (tanh → −1…1), 1: arousal, 2: dominance (sigmoid → 0…1),
  3: confidence (sigmoid → 0…1, trained to predict how close the estimate is:
  target ``exp(−err/0.25)`` with ``err`` the mean absolute error over (valence/2, arousal,
  dominance)) — these four, activated, are ``emotion``;
* 4–8: auxiliary targets, linear: tempo/240, minor mode 0/1, velocity/127, register/7,
  legato (the performance parameters; multi-task training);
* 9–63: free, untrained by any loss of their own (an embedding for later models).
"""

from __future__ import annotations

import torch
from torch import nn

from kelly_actors.bus.frames import CHROMA, FEATURE_NAMES, N_FEATURES, ONSET_STRENGTH, STATE_SIZE

#: Features the network does not look at: spectral shape and timbre (ZCR, centroid,
#: bandwidth, rolloff, flatness, contrast, MFCCs and their deltas, the log-mel bands). A
#: first run on all 128 learned the five training instruments' timbres and did worse than
#: the baselines on the held-out instruments (see the model card); loudness, onsets, tempo,
#: pitch and chroma carry what the labels are made of and travel across instruments.
TIMBRE_PREFIXES = (
    "zcr",
    "centroid",
    "bandwidth",
    "rolloff",
    "flatness",
    "contrast",
    "mfcc",
    "logmel",
)
KEEP = torch.tensor([not n.startswith(TIMBRE_PREFIXES) for n in FEATURE_NAMES])
#: :data:`KEEP` without the 12 raw chroma values: their pitch classes depend on the key
#: (and so can identify a training piece); :func:`key_features` carries the mode instead.
KEEP_NO_CHROMA = KEEP & torch.tensor([not n.startswith("chroma") for n in FEATURE_NAMES])


def keep_mask(raw_chroma: bool) -> torch.Tensor:
    """bool (128,): the raw features the network sees."""
    return KEEP if raw_chroma else KEEP_NO_CHROMA


#: 6 key-profile features + 12 chroma values relative to the frame's diatonic collection.
N_PROFILE = 6
N_KEY = N_PROFILE + 12
#: Values of the state ``h`` that carry the slow chroma (:func:`slow_chroma`).
N_SLOW = 12
HIDDEN_IN = 256
N_OUT = 64
N_AUX = 5
INPUT_CLIP = 8.0
CONFIDENCE_SCALE = 0.25
#: Added to the chroma norm so a silent frame (all-zero chroma) gives 0, not 0/0.
KEY_EPS = 1e-3

#: Key profiles, C as the tonic: Krumhansl–Kessler major and minor probe-tone ratings, and
#: the major and minor triads. Valence sets the mode (kelly_actors.composer.mapper), and raw
#: chroma depends on the key; the best match of a frame's chroma with a profile over all 12
#: transpositions does not.
KEY_PROFILES = (
    (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
    (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17),
    (1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0),
    (1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0),
)


def key_templates() -> torch.Tensor:
    """float32 (12, 48): column ``12·p + r`` is profile ``p`` (zero-mean, unit norm)
    transposed up ``r`` semitones."""
    cols = []
    for profile in KEY_PROFILES:
        t = torch.tensor(profile, dtype=torch.float64)
        t = t - t.mean()
        t = t / t.norm()
        cols += [torch.roll(t, r) for r in range(12)]
    return torch.stack(cols, dim=1).float()


def centring() -> torch.Tensor:
    """float32 (12, 12): ``chroma @ centring()`` subtracts the chroma's mean."""
    return torch.eye(12) - torch.full((12, 12), 1.0 / 12)


#: (4, 6): the 4 best matches → themselves, major − minor profile, major − minor triad.
KEY_MIX = torch.tensor(
    [
        [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        [0.0, 1.0, 0.0, 0.0, -1.0, 0.0],
        [0.0, 0.0, 1.0, 0.0, 0.0, 1.0],
        [0.0, 0.0, 0.0, 1.0, 0.0, -1.0],
    ]
)


#: The diatonic collection (the white keys, C as 0). Every mode the composer's formulas
#: choose (lydian … phrygian, kelly_actors.music.theory.MODES) is one rotation of it on
#: the piece's tonic; which *degree* of the collection is the tonic is the mode.
DIATONIC = (1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1)


def diatonic_templates() -> torch.Tensor:
    """float32 (12, 12): column ``r`` is :data:`DIATONIC` (zero-mean) transposed up ``r``."""
    t = torch.tensor(DIATONIC, dtype=torch.float64)
    t = t - t.mean()
    return torch.stack([torch.roll(t, r) for r in range(12)], dim=1).float()


def key_features(features: torch.Tensor) -> torch.Tensor:
    """(…, 128) raw frames → (…, 18): :func:`chroma_key_features` of the frames' chroma."""
    return chroma_key_features(features[..., CHROMA])


def chroma_key_features(chroma: torch.Tensor) -> torch.Tensor:
    """(…, 12) chroma → (…, 18), invariant to transposition, 0 for silence:

    * 0–5: for each of :data:`KEY_PROFILES` the best correlation over the 12 transpositions
      with the frame's centred chroma, then the two major − minor differences;
    * 6–17: the chroma (as shares of its sum) read from the transposition ``r`` of the
      diatonic collection that matches the frame best: value ``j`` is pitch class
      ``r + j``. Across frames of one piece ``r`` mostly stays put, and where the energy sits
      among the collection's degrees (0 for ionian, 9 for aeolian, …) is the mode.
    """
    norm = (chroma @ centring()).norm(dim=-1, keepdim=True) + KEY_EPS
    corr = (chroma @ key_templates()).unflatten(-1, (len(KEY_PROFILES), 12))
    profile = (corr.amax(-1) / norm) @ KEY_MIX
    best = (chroma @ diatonic_templates()).argmax(-1, keepdim=True)
    index = (best + torch.arange(12)) % 12
    rotated = torch.gather(chroma, -1, index)
    rotated = rotated / (rotated.sum(-1, keepdim=True) + KEY_EPS)
    return torch.cat([profile, rotated], dim=-1)


#: Time constant of the slow chroma (s): a few bars, long enough for the tonic to stand out
#: of the chords that pass, short enough to follow a change of key.
SLOW_TAU_S = 3.0
FRAME_RATE = 48_000 / 512
SLOW_ALPHA = float(torch.exp(torch.tensor(-1.0 / (SLOW_TAU_S * FRAME_RATE))))


def slow_chroma(chroma: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
    """The chroma's exponential moving average, frame by frame: (T, B, 12) chroma and the
    average before the first frame ``start`` (B, 12) → (T, B, 12), with
    ``ema[t] = α·ema[t−1] + (1 − α)·chroma[t]``, α = :data:`SLOW_ALPHA`. Written as one
    (T, T) weighting so it runs as a few tensor ops in the ONNX graph."""
    t = torch.arange(chroma.shape[0], dtype=chroma.dtype, device=chroma.device)
    lag = t[:, None] - t[None, :]
    weights = torch.where(
        lag >= 0, (1.0 - SLOW_ALPHA) * SLOW_ALPHA ** lag.clamp(min=0.0), torch.zeros_like(lag)
    )
    carried = (SLOW_ALPHA ** (t + 1.0))[:, None, None] * start[None]
    return torch.einsum("ij,jbk->ibk", weights, chroma) + carried


#: Centre tempi of the beat resonators (BPM): log-spaced, 11 % apart, wide enough for a
#: beat or its half or double anywhere in the composer's 60…180 BPM.
TEMPO_BPM = torch.logspace(
    float(torch.log10(torch.tensor(30.0))), float(torch.log10(torch.tensor(360.0))), 24
)
N_TEMPO = len(TEMPO_BPM)
#: Each resonator remembers about this many of its own periods (time constant cycles / f):
#: long enough to tell a period from its neighbours', short enough to follow a change.
TEMPO_CYCLES = 2.5
#: Carried values: the previous frame's onset strength, then each resonator's real parts
#: and imaginary parts.
N_TEMPO_STATE = 1 + 2 * N_TEMPO
#: :func:`tempo_features` per frame: N_TEMPO shares and the log of their total.
N_TEMPO_FEATURES = N_TEMPO + 1
#: Width of each of the ``h`` and ``c`` tails when the resonators are carried too:
#: 2 · 32 ≥ N_SLOW + N_TEMPO_STATE (61).
TAIL_TEMPO = 32
#: Added to the resonators' total so a silent stream reads shares of 0, not 0/0.
TEMPO_EPS = 1e-3


def _resonator_constants() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """float64 (N_TEMPO,) each: angle per frame ω (rad), decay per frame ρ, and the gain
    that undoes the first difference's tilt (1 / |1 − e^{−iω}|)."""
    f = TEMPO_BPM.double() / 60.0
    omega = 2.0 * torch.pi * f / FRAME_RATE
    rho = torch.exp(-f / (TEMPO_CYCLES * FRAME_RATE))
    return omega, rho, 1.0 / (2.0 * torch.sin(omega / 2.0))


TEMPO_OMEGA, TEMPO_RHO, TEMPO_GAIN = _resonator_constants()


def resonate(onset: torch.Tensor, carry: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A bank of complex one-pole filters on the first difference of the onset strength.

    ``onset`` (T, B) onset strength (dB per hop, feature 59); ``carry`` (B, N_TEMPO_STATE),
    the state after the previous frame (zeros at the start of a stream). Resonator k
    keeps ``y[t] = ρ·e^{iω}·y[t−1] + (1 − ρ)·(x[t] − x[t−1])``: a sliding Fourier
    coefficient of the onsets at TEMPO_BPM[k], over about TEMPO_CYCLES of its periods.
    Returns the real and imaginary parts of ``y``, (T, B, N_TEMPO) each. Written as
    (N_TEMPO, T, T) weightings so it runs as a few tensor ops in the ONNX graph."""
    omega, rho = TEMPO_OMEGA.to(onset.dtype), TEMPO_RHO.to(onset.dtype)
    previous = torch.cat([carry[None, :, 0], onset[:-1]], dim=0)
    step = onset - previous
    t = torch.arange(onset.shape[0], dtype=onset.dtype)
    lag = t[:, None] - t[None, :]
    causal = (lag >= 0).to(onset.dtype)
    lag = lag.clamp(min=0.0)[None]
    envelope = causal[None] * (1.0 - rho)[:, None, None] * rho[:, None, None] ** lag
    angle = omega[:, None, None] * lag
    re = torch.einsum("kij,jb->ibk", envelope * torch.cos(angle), step)
    im = torch.einsum("kij,jb->ibk", envelope * torch.sin(angle), step)
    ahead = t[:, None] + 1.0
    decay = rho[None] ** ahead
    cos, sin = torch.cos(omega[None] * ahead), torch.sin(omega[None] * ahead)
    re0, im0 = carry[None, :, 1 : 1 + N_TEMPO], carry[None, :, 1 + N_TEMPO :]
    re = re + (decay * cos)[:, None] * re0 - (decay * sin)[:, None] * im0
    im = im + (decay * sin)[:, None] * re0 + (decay * cos)[:, None] * im0
    return re, im


def beat_resonators(onset: torch.Tensor, carry: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`resonate`'s magnitudes with the first difference's tilt undone, (T, B,
    N_TEMPO), and the new carry (B, N_TEMPO_STATE): the last onset strength, then the last
    real and imaginary parts."""
    re, im = resonate(onset, carry)
    magnitude = torch.sqrt(re.square() + im.square() + 1e-12) * TEMPO_GAIN.to(onset.dtype)
    return magnitude, resonator_state(onset, re, im)[-1]


def resonator_state(onset: torch.Tensor, re: torch.Tensor, im: torch.Tensor) -> torch.Tensor:
    """The carry after each frame, (T, B, N_TEMPO_STATE): its onset strength ``onset``
    (T, B), then :func:`resonate`'s real and imaginary parts (T, B, N_TEMPO) each."""
    return torch.cat([onset[..., None], re, im], dim=-1)


def tempo_features(magnitude: torch.Tensor) -> torch.Tensor:
    """(…, N_TEMPO) resonator magnitudes → (…, N_TEMPO_FEATURES): each one's share of their
    total (the shape of the tempogram, free of loudness), then the log of the total."""
    total = magnitude.sum(-1, keepdim=True) + TEMPO_EPS
    return torch.cat([magnitude / total, torch.log(total)], dim=-1)


class EmotionNet(nn.Module):
    """See the module docstring. ``mean``/``std``: float32 (128,) from the training frames;
    ``key_mean``/``key_std``: float32 (18,), the same for :func:`key_features`; ``keep``:
    bool (128,), the raw features not masked (:func:`keep_mask`). With ``slow``, the
    network also reads :func:`chroma_key_features` of :func:`slow_chroma` (standardised by
    ``slow_mean``/``slow_std``, float32 (18,)); the average is carried in the last
    :data:`N_SLOW` values of ``h`` (the LSTM keeps the first ``STATE_SIZE − N_SLOW``, and
    the same tail of ``c`` is 0), so the model's state keeps its (1, B, 128) shape. With
    ``tempo``, it also reads :func:`tempo_features` (``tempo_mean``/``tempo_std``,
    float32 (25,)); the LSTM keeps ``STATE_SIZE − 32`` values and the two 32-value tails,
    joined, carry the slow chroma (first 12) and the resonators' state (next 49)."""

    def __init__(
        self,
        mean: torch.Tensor | None = None,
        std: torch.Tensor | None = None,
        key_mean: torch.Tensor | None = None,
        key_std: torch.Tensor | None = None,
        keep: torch.Tensor = KEEP,
        slow_mean: torch.Tensor | None = None,
        slow_std: torch.Tensor | None = None,
        slow: bool = False,
        tempo_mean: torch.Tensor | None = None,
        tempo_std: torch.Tensor | None = None,
        tempo: bool = False,
    ) -> None:
        super().__init__()
        if tempo and not slow:
            raise ValueError("tempo needs slow: the resonators are carried after the slow chroma")
        self.slow, self.tempo = slow, tempo
        self.register_buffer("mean", torch.zeros(N_FEATURES) if mean is None else mean.float())
        inv = torch.ones(N_FEATURES) if std is None else 1.0 / std.float().clamp_min(1e-6)
        # A masked feature is multiplied by 0: it reaches the network as a constant 0.
        self.register_buffer("inv_std", inv * keep)
        self.register_buffer("key_mean", _or_zeros(key_mean))
        self.register_buffer("key_inv_std", _inverse(key_std))
        if slow:
            self.register_buffer("slow_mean", _or_zeros(slow_mean))
            self.register_buffer("slow_inv_std", _inverse(slow_std))
        if tempo:
            self.register_buffer("tempo_mean", _or_zeros(tempo_mean, N_TEMPO_FEATURES))
            self.register_buffer("tempo_inv_std", _inverse(tempo_std, N_TEMPO_FEATURES))
        #: Std of Gaussian noise added to the standardised inputs while training (not exported).
        self.input_noise = 0.0
        self.hidden = STATE_SIZE - (TAIL_TEMPO if tempo else N_SLOW if slow else 0)
        width = N_FEATURES + N_KEY * (2 if slow else 1) + (N_TEMPO_FEATURES if tempo else 0)
        self.dense_in = nn.Linear(width, HIDDEN_IN)
        self.lstm = nn.LSTM(HIDDEN_IN, self.hidden)
        self.dense_out = nn.Linear(self.hidden, N_OUT)

    def forward(
        self, features: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        z = ((features - self.mean) * self.inv_std).clamp(-INPUT_CLIP, INPUT_CLIP)
        k = (key_features(features) - self.key_mean) * self.key_inv_std
        parts = [z, k.clamp(-INPUT_CLIP, INPUT_CLIP)]
        carried = []
        if self.slow:
            # The carried values: the tails of h and c, joined.
            carry = torch.cat([h[0, :, self.hidden :], c[0, :, self.hidden :]], dim=-1)
            ema = slow_chroma(features[..., CHROMA], carry[:, :N_SLOW])
            ks = (chroma_key_features(ema) - self.slow_mean) * self.slow_inv_std
            parts.append(ks.clamp(-INPUT_CLIP, INPUT_CLIP))
            carried.append(ema[-1])
            h, c = h[..., : self.hidden], c[..., : self.hidden]
        if self.tempo:
            state = carry[:, N_SLOW : N_SLOW + N_TEMPO_STATE]
            magnitude, state = beat_resonators(features[..., ONSET_STRENGTH], state)
            kt = (tempo_features(magnitude) - self.tempo_mean) * self.tempo_inv_std
            parts.append(kt.clamp(-INPUT_CLIP, INPUT_CLIP))
            carried.append(state)
        z = torch.cat(parts, dim=-1)
        if self.training and self.input_noise:
            z = z + self.input_noise * torch.randn_like(z) * (z != 0)
        z = torch.tanh(self.dense_in(z))
        y, (h, c) = self.lstm(z, (h, c))
        if self.slow:
            tail = STATE_SIZE - self.hidden
            carry = self._join_carried(carried)[None]
            h = torch.cat([h, carry[..., :tail]], dim=-1)
            c = torch.cat([c, carry[..., tail:]], dim=-1)
        raw = self.dense_out(y)
        emotion = torch.cat([torch.tanh(raw[..., :1]), torch.sigmoid(raw[..., 1:4])], dim=-1)
        return emotion, raw, h, c

    def carried_sequence(self, features: torch.Tensor) -> torch.Tensor:
        """The values carried in the state's tails after each frame of ``features``
        (T, B, 128), from a zero state: (T, B, 2·(STATE_SIZE − hidden)), the tails of ``h``
        then of ``c``; training starts its crops from them (:meth:`warm_state`)."""
        parts = []
        if self.slow:
            parts.append(slow_chroma(features[..., CHROMA], torch.zeros(features.shape[1], N_SLOW)))
        if self.tempo:
            onset = features[..., ONSET_STRENGTH]
            re, im = resonate(onset, torch.zeros(features.shape[1], N_TEMPO_STATE))
            parts.append(resonator_state(onset, re, im))
        return self._join_carried(parts)

    def _join_carried(self, parts: list[torch.Tensor]) -> torch.Tensor:
        """The carried values (…, width) each, in state order → (…, 2·(STATE_SIZE −
        hidden)), zero-padded: the tails of ``h`` then of ``c``."""
        carry = torch.cat(parts, dim=-1)
        pad = 2 * (STATE_SIZE - self.hidden) - carry.shape[-1]
        return torch.cat([carry, torch.zeros(*carry.shape[:-1], pad, dtype=carry.dtype)], -1)

    def warm_state(self, carried: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``h``, ``c`` (1, B, STATE_SIZE) with the LSTM's part zero and the tails holding
        ``carried`` (B, 2·(STATE_SIZE − hidden)), a row of :meth:`carried_sequence`."""
        tail = STATE_SIZE - self.hidden
        h, c = self.zero_state(carried.shape[0])
        h[0, :, self.hidden :] = carried[:, :tail]
        c[0, :, self.hidden :] = carried[:, tail:]
        return h, c

    @staticmethod
    def zero_state(batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.zeros(1, batch, STATE_SIZE), torch.zeros(1, batch, STATE_SIZE)


def _or_zeros(t: torch.Tensor | None, size: int = N_KEY) -> torch.Tensor:
    return torch.zeros(size) if t is None else t.float()


def _inverse(std: torch.Tensor | None, size: int = N_KEY) -> torch.Tensor:
    return torch.ones(size) if std is None else 1.0 / std.float().clamp_min(1e-6)


def loss_terms(
    emotion: torch.Tensor,
    raw: torch.Tensor,
    labels: torch.Tensor,
    aux: torch.Tensor,
    valence_weight: float = 0.5,
) -> dict[str, torch.Tensor]:
    """Per-term losses over (T, B) frames. ``labels`` (T, B, 3) or broadcastable, ``aux``
    (…, 5). Valence errors are multiplied by ``valence_weight`` (0.5: every axis spans 1)."""
    scale = torch.tensor([valence_weight, 1.0, 1.0])
    err = (emotion[..., :3] - labels) * scale
    pad = err.square().mean()
    aux_loss = (raw[..., 4 : 4 + N_AUX] - aux).square().mean()
    target = torch.exp(-err.abs().mean(-1).detach() / CONFIDENCE_SCALE)
    conf = nn.functional.binary_cross_entropy(emotion[..., 3].clamp(1e-6, 1 - 1e-6), target)
    return {"pad": pad, "aux": aux_loss, "confidence": conf}


def total_loss(terms: dict[str, torch.Tensor]) -> torch.Tensor:
    return terms["pad"] + 0.5 * terms["aux"] + 0.1 * terms["confidence"]
