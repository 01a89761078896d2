"""The emotion-conditioned compound-word transformer (torch).

One forward serves training, prompt prefill and single-token steps: it takes
``S`` new tokens and a key/value cache of ``T`` earlier ones and returns the
next-token logits of every field for each new token plus the grown cache.
That same forward is what ``export.py`` writes to ONNX.

Conditioning: an emotion embedding (a 2 → d → d MLP of valence and arousal) is
added at the input and, through a per-block linear map, modulates both layer
norms of every block (scale and shift, FiLM), so the conditioning reaches every
layer instead of fading behind the tokens. An emotion row of NaN means *no
condition*: it takes a learned null embedding instead. Training replaces a
fraction of the emotions by NaN (condition dropout), so the same network gives
both the conditional and the unconditional distribution, which classifier-free
guidance mixes at decode time (``kelly_actors/transformer/generate.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from kelly_actors.transformer import vocab as V


@dataclass(frozen=True)
class ModelConfig:
    """Sizes: ``d_model`` width, ``layers`` blocks, ``heads`` attention heads,
    ``d_ff`` feed-forward width, ``max_len`` longest sequence (learned positions)."""

    d_model: int = 128
    layers: int = 4
    heads: int = 4
    d_ff: int = 384
    max_len: int = 512
    dropout: float = 0.1
    #: FiLM of every block's layer norms by the emotion (False: input only, as before).
    film: bool = True

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads


class Block(nn.Module):
    """Pre-norm causal self-attention + feed-forward, with an explicit KV cache; the
    emotion embedding scales and shifts both normalized inputs (FiLM) when ``cfg.film``."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.ff = nn.Sequential(
            nn.Linear(cfg.d_model, cfg.d_ff), nn.GELU(), nn.Linear(cfg.d_ff, cfg.d_model)
        )
        self.drop = nn.Dropout(cfg.dropout)
        if cfg.film:
            # Zero-initialised: training starts from the plain block and learns the modulation.
            self.film = nn.Linear(cfg.d_model, 4 * cfg.d_model)
            nn.init.zeros_(self.film.weight)
            nn.init.zeros_(self.film.bias)

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor,
        past_k: torch.Tensor,
        past_v: torch.Tensor,
        cond: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x ``[B, S, D]``; mask ``[S, T+S]`` additive; past ``[B, H, T, Dh]``; cond ``[B, D]``."""
        b, s, _ = x.shape
        h, dh = self.cfg.heads, self.cfg.head_dim
        a, c = self.norm1(x), None
        if self.cfg.film:
            c = self.film(cond)[:, None, :].chunk(4, dim=-1)
            a = a * (1 + c[0]) + c[1]
        q, k, v = self.qkv(a).split(self.cfg.d_model, dim=-1)
        q = q.view(b, s, h, dh).transpose(1, 2)
        k = torch.cat([past_k, k.view(b, s, h, dh).transpose(1, 2)], dim=2)
        v = torch.cat([past_v, v.view(b, s, h, dh).transpose(1, 2)], dim=2)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(dh) + mask
        out = self.drop(att.softmax(dim=-1)) @ v
        x = x + self.drop(self.proj(out.transpose(1, 2).reshape(b, s, -1)))
        f = self.norm2(x)
        if c is not None:
            f = f * (1 + c[2]) + c[3]
        x = x + self.drop(self.ff(f))
        return x, k, v


class CompoundTransformer(nn.Module):
    """Tokens ``int64 [B, S, N_FIELDS]`` + emotion ``float32 [B, 2]`` (valence −1…1,
    arousal 0…1; a row of NaN = no condition) → one logit tensor ``[B, S, FIELD_SIZES[f]]``
    per field."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.fields = nn.ModuleList(nn.Embedding(n, cfg.d_model) for n in V.FIELD_SIZES)
        self.positions = nn.Embedding(cfg.max_len, cfg.d_model)
        # The emotion is added to every position (not only prepended), so a
        # cached prefix and a fresh step see it the same way.
        self.emotion = nn.Sequential(
            nn.Linear(2, cfg.d_model), nn.GELU(), nn.Linear(cfg.d_model, cfg.d_model)
        )
        self.null_emotion = nn.Parameter(torch.zeros(cfg.d_model))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.d_model)
        self.heads = nn.ModuleList(nn.Linear(cfg.d_model, n) for n in V.FIELD_SIZES)
        self.drop = nn.Dropout(cfg.dropout)

    def condition(self, emotion: torch.Tensor) -> torch.Tensor:
        """``[B, 2]`` → ``[B, D]``: the emotion's embedding, the null one for a NaN row."""
        missing = torch.isnan(emotion).any(dim=-1, keepdim=True)
        known = self.emotion(torch.where(missing, torch.zeros_like(emotion), emotion))
        return torch.where(missing, self.null_emotion.expand_as(known), known)

    def empty_cache(self, batch: int) -> torch.Tensor:
        """``float32 [layers, B, heads, 0, head_dim]``."""
        c = self.cfg
        return torch.zeros(c.layers, batch, c.heads, 0, c.head_dim)

    def forward(
        self,
        tokens: torch.Tensor,
        emotion: torch.Tensor,
        past_keys: torch.Tensor,
        past_values: torch.Tensor,
    ) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """Returns (per-field logits, present_keys, present_values); caches
        ``[layers, B, heads, T(+S), head_dim]``."""
        s = tokens.shape[1]
        t = past_keys.shape[3]
        steps = torch.arange(s, device=tokens.device) + t
        x = sum(emb(tokens[..., i]) for i, emb in enumerate(self.fields))
        cond = self.condition(emotion)
        x = x + self.positions(steps)[None] + cond[:, None, :]
        x = self.drop(x)
        keys = torch.arange(t + s, device=tokens.device)
        mask = torch.zeros(s, t + s, device=tokens.device)
        mask = mask.masked_fill(keys[None, :] > steps[:, None], float("-inf"))
        new_k, new_v = [], []
        for i, block in enumerate(self.blocks):
            x, k, v = block(x, mask, past_keys[i], past_values[i], cond)
            new_k.append(k)
            new_v.append(v)
        x = self.norm(x)
        logits = [head(x) for head in self.heads]
        return logits, torch.stack(new_k), torch.stack(new_v)


def targets(tokens: torch.Tensor) -> torch.Tensor:
    """Next-token targets ``int64 [B, S-1, N_FIELDS]``; unused fields are −100 (ignored)."""
    nxt = tokens[:, 1:].clone()
    kind = nxt[..., V.TYPE]
    for field in range(1, V.N_FIELDS):
        used = torch.zeros_like(kind, dtype=torch.bool)
        for t, fields in V.FIELDS_OF_TYPE.items():
            if field in fields:
                used |= kind == t
        nxt[..., field] = torch.where(used, nxt[..., field], torch.full_like(kind, -100))
    nxt[..., V.TYPE] = torch.where(kind == V.PAD_TYPE, torch.full_like(kind, -100), kind)
    return nxt


def loss_terms(
    model: CompoundTransformer, tokens: torch.Tensor, emotion: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed cross-entropy over all predicted fields, and the number of predicted tokens.

    The loss per token is the sum over the fields it uses, so ``exp(loss / tokens)`` is a
    per-compound-word perplexity.
    """
    past = model.empty_cache(tokens.shape[0])
    logits, _, _ = model(tokens[:, :-1], emotion, past, past)
    tgt = targets(tokens)
    total = tokens.new_zeros((), dtype=torch.float32)
    for field, out in enumerate(logits):
        total = total + nn.functional.cross_entropy(
            out.reshape(-1, out.shape[-1]),
            tgt[..., field].reshape(-1),
            ignore_index=-100,
            reduction="sum",
        )
    count = (tgt[..., V.TYPE] != -100).sum()
    return total, count
