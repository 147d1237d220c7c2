"""ALBERT's cross-layer sharing and factorised embeddings, as a real encoder and as a closed-form count.

Used by the chapter *ALBERT: one layer, used twelve times* (book/albert.ipynb). Field names follow
Hugging Face's ``AlbertConfig`` and the module layout follows ``modeling_albert.py``, so the two can be
read side by side. Lan et al. (2020), "ALBERT: A Lite BERT for Self-supervised Learning of Language
Representations", ICLR.

Sharing is real: a shared sub-layer is *one* module object placed in every layer, never a copy, so
``model.parameters()`` yields its tensors once (the count the paper reports), while ``state_dict()``
lists them once per layer (a count that is wrong for a shared model; see :func:`naive_counts`).
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from .checks import ArgumentError, check_choice, check_int
from .device import resolve_device

SHARING = ("none", "attention", "ffn", "all")


@dataclass(frozen=True)
class AlbertConfig:
    """Sizes of a BERT/ALBERT encoder (Hugging Face's field names) and what its layers share."""

    vocab_size: int = 30000  # V: SentencePiece vocabulary of the paper
    embedding_size: int = 128  # E: token embedding width; E < H is ALBERT's factorisation
    hidden_size: int = 768  # H: width of every transformer layer
    num_hidden_layers: int = 12  # L
    num_attention_heads: int = 12  # H must be divisible by it; the count does not depend on it
    intermediate_size: int = 3072  # feed-forward inner width (4H in the paper)
    max_position_embeddings: int = 512
    type_vocab_size: int = 2  # segment A / segment B
    sharing: str = "all"  # which sub-layers all layers share: "none", "attention", "ffn" or "all"

    def __post_init__(self) -> None:
        for field in ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                      "intermediate_size", "max_position_embeddings", "type_vocab_size"):
            check_int(field, getattr(self, field), low=1)
        check_choice("sharing", self.sharing, SHARING)
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"hidden_size ({self.hidden_size}) must be divisible by num_attention_heads "
                             f"({self.num_attention_heads})")

    @property
    def shares_attention(self) -> bool:
        return self.sharing in ("attention", "all")

    @property
    def shares_ffn(self) -> bool:
        return self.sharing in ("ffn", "all")

    @property
    def factorised(self) -> bool:
        """True when E != H, so the embeddings need an E → H projection."""
        return self.embedding_size != self.hidden_size

    def with_(self, **changes) -> "AlbertConfig":
        """A copy with some fields changed (validated again)."""
        unknown = set(changes) - set(asdict(self))
        if unknown:
            raise ValueError(f"unknown AlbertConfig field(s) {sorted(unknown)}; fields are {sorted(asdict(self))}")
        return replace(self, **changes)

    @classmethod
    def preset(cls, name: str, **changes) -> "AlbertConfig":
        """One of the models of Table 1 of Lan et al. (2020): see :data:`PRESETS`; ``changes`` as in :meth:`with_`."""
        if not isinstance(name, str):
            raise ArgumentError(f"name must be one of {sorted(PRESETS)}, got {type(name).__name__} {name!r}")
        check_choice("name", name, PRESETS)
        return PRESETS[name].with_(**changes)


# Table 1 of Lan et al. (2020). The paper uses a 30k vocabulary for every model, BERT included;
# feed-forward 4H and H/64 heads (BERT-base keeps its 12).
PRESETS: dict[str, AlbertConfig] = {
    "bert-base": AlbertConfig(embedding_size=768, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                              intermediate_size=3072, sharing="none"),
    "bert-large": AlbertConfig(embedding_size=1024, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                               intermediate_size=4096, sharing="none"),
    "albert-base": AlbertConfig(embedding_size=128, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                                intermediate_size=3072, sharing="all"),
    "albert-large": AlbertConfig(embedding_size=128, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                                 intermediate_size=4096, sharing="all"),
    "albert-xlarge": AlbertConfig(embedding_size=128, hidden_size=2048, num_hidden_layers=24, num_attention_heads=32,
                                  intermediate_size=8192, sharing="all"),
    "albert-xxlarge": AlbertConfig(embedding_size=128, hidden_size=4096, num_hidden_layers=12, num_attention_heads=64,
                                   intermediate_size=16384, sharing="all"),
}


# ----------------------------------------------------------------------------- the closed-form count
@dataclass(frozen=True)
class ParameterCount:
    """Unique parameters of an encoder, by part; ``total`` is what ``model.parameters()`` sums to."""

    embeddings: int  # word, position and token-type tables (V·E + P·E + T·E)
    projection: int  # the E → H linear map (0 when E = H)
    attention: int  # Q, K, V and output projections with biases, over the distinct attention blocks
    feed_forward: int  # the two feed-forward linears with biases, over the distinct blocks
    layer_norms: int  # embedding LayerNorm + one per distinct attention block + one per distinct FFN block
    pooler: int  # dense H → H on the first token

    @property
    def total(self) -> int:
        return self.embeddings + self.projection + self.attention + self.feed_forward + self.layer_norms + self.pooler

    def as_dict(self) -> dict[str, int]:
        """The parts in display order, without the total."""
        return {"embeddings": self.embeddings, "projection": self.projection, "attention": self.attention,
                "feed_forward": self.feed_forward, "layer_norms": self.layer_norms, "pooler": self.pooler}


def count_parameters(config: AlbertConfig) -> ParameterCount:
    """The encoder's parameter count from a formula, without building anything (ALBERT chapter).

    Equal to ``sum(p.numel() for p in AlbertEncoder(config).parameters())`` for every config (tested).
    A shared block is counted once, however many layers use it.
    """
    if not isinstance(config, AlbertConfig):
        raise ArgumentError(f"config must be an AlbertConfig, got {type(config).__name__}")
    c = config
    V, E, H, L, I = c.vocab_size, c.embedding_size, c.hidden_size, c.num_hidden_layers, c.intermediate_size
    n_attention = 1 if c.shares_attention else L  # distinct attention blocks
    n_ffn = 1 if c.shares_ffn else L
    return ParameterCount(
        embeddings=(V + c.max_position_embeddings + c.type_vocab_size) * E,
        projection=E * H + H if c.factorised else 0,
        attention=n_attention * 4 * (H * H + H),
        feed_forward=n_ffn * (H * I + I + I * H + H),
        layer_norms=2 * E + (n_attention + n_ffn) * 2 * H,
        pooler=H * H + H,
    )


# ----------------------------------------------------------------------------- the encoder
class AlbertEmbeddings(nn.Module):
    """Word + position + token-type embeddings of width E, then LayerNorm."""

    def __init__(self, c: AlbertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.embedding_size)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.embedding_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.embedding_size)
        self.LayerNorm = nn.LayerNorm(c.embedding_size, eps=1e-12)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)  # (T,)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions) \
            + self.token_type_embeddings(token_type_ids)  # (B, T, E)
        return self.LayerNorm(x)


class AlbertAttention(nn.Module):
    """Multi-head self-attention with its residual connection and its own LayerNorm (post-LN, as BERT)."""

    def __init__(self, c: AlbertConfig):
        super().__init__()
        H = c.hidden_size
        self.num_heads = c.num_attention_heads
        self.query, self.key, self.value = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)
        self.dense = nn.Linear(H, H)
        self.LayerNorm = nn.LayerNorm(H, eps=1e-12)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        B, T, H = x.shape
        split = lambda t: t.view(B, T, self.num_heads, H // self.num_heads).transpose(1, 2)  # noqa: E731 (B, nh, T, hd)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, nh, T, hd)
        att = att.transpose(1, 2).reshape(B, T, H)  # (B, T, H)
        return self.LayerNorm(x + self.dense(att))


class AlbertFeedForward(nn.Module):
    """Two-layer GELU feed-forward block with its residual connection and its own LayerNorm."""

    def __init__(self, c: AlbertConfig):
        super().__init__()
        self.ffn = nn.Linear(c.hidden_size, c.intermediate_size)
        self.ffn_output = nn.Linear(c.intermediate_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=1e-12)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(x + self.ffn_output(F.gelu(self.ffn(x))))  # (B, T, H)


class AlbertLayer(nn.Module):
    """One transformer layer: an attention block then a feed-forward block, either of which may be shared."""

    def __init__(self, attention: AlbertAttention, ffn: AlbertFeedForward):
        super().__init__()
        self.attention = attention
        self.ffn = ffn

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.ffn(self.attention(x, mask))


def _check_id_tensor(name: str, ids, shape: torch.Size | None, high: int, high_name: str) -> None:
    """An integer (B, T) tensor of ids in [0, high), of the given shape (None: any non-empty (B, T))."""
    if not isinstance(ids, torch.Tensor) or ids.dtype != torch.long or ids.ndim != 2:
        got = f"a {ids.ndim}-D {ids.dtype} tensor" if isinstance(ids, torch.Tensor) else type(ids).__name__
        raise ArgumentError(f"{name} must be a (batch, tokens) torch.long tensor, got {got}")
    if shape is None and 0 in ids.shape:
        raise ValueError(f"{name} must hold at least one sequence of at least one token, got shape {tuple(ids.shape)}")
    if shape is not None and ids.shape != shape:
        raise ValueError(f"{name} must have the shape of input_ids {tuple(shape)}, got {tuple(ids.shape)}")
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= high):
        raise ValueError(f"{name} must lie in [0, {high_name}={high}), got values from {int(ids.min())} "
                         f"to {int(ids.max())}")


def check_token_ids(config: AlbertConfig, input_ids) -> torch.Tensor:
    """Refuse ``input_ids`` that ``AlbertEncoder(config)`` cannot read, naming what is wrong (ALBERT chapter)."""
    _check_id_tensor("input_ids", input_ids, None, config.vocab_size, "vocab_size")
    if input_ids.shape[1] > config.max_position_embeddings:
        raise ValueError(f"input_ids has {input_ids.shape[1]} tokens; at most max_position_embeddings="
                         f"{config.max_position_embeddings}")
    return input_ids


def _check_mask(mask, shape: torch.Size) -> None:
    if not isinstance(mask, torch.Tensor) or mask.is_complex():
        got = f"a {mask.dtype} tensor" if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise ArgumentError(f"attention_mask must be a tensor of 1 (token) and 0 (padding), got {got}")
    if mask.shape != shape:
        raise ValueError(f"attention_mask must have the shape of input_ids {tuple(shape)}, got {tuple(mask.shape)}")
    if mask.dtype != torch.bool and not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError("attention_mask must hold only 0 (padding) and 1 (token)")
    if not bool(mask.bool().any(dim=1).all()):
        raise ValueError("attention_mask must keep at least one token (a 1) in every sequence")


class AlbertEncoder(nn.Module):
    """A BERT/ALBERT encoder whose layers share sub-layers as ``config.sharing`` says (ALBERT chapter).

    Sharing reuses module objects: with ``sharing="all"`` every entry of ``layers`` is the *same*
    :class:`AlbertLayer`, as Hugging Face's ALBERT loops over one layer group.
    """

    def __init__(self, config: AlbertConfig, device: str | torch.device | None = None):
        super().__init__()
        if not isinstance(config, AlbertConfig):
            raise ArgumentError(f"config must be an AlbertConfig, got {type(config).__name__}")
        self.config = c = config
        dev = resolve_device(device)
        self.embeddings = AlbertEmbeddings(c)
        self.embedding_hidden_mapping_in = nn.Linear(c.embedding_size, c.hidden_size) if c.factorised else None
        shared_attention = AlbertAttention(c) if c.shares_attention else None
        shared_ffn = AlbertFeedForward(c) if c.shares_ffn else None
        if c.sharing == "all":
            layer = AlbertLayer(shared_attention, shared_ffn)
            layers = [layer] * c.num_hidden_layers  # one module, L uses
        else:
            layers = [AlbertLayer(shared_attention or AlbertAttention(c), shared_ffn or AlbertFeedForward(c))
                      for _ in range(c.num_hidden_layers)]
        self.layers = nn.ModuleList(layers)
        self.pooler = nn.Linear(c.hidden_size, c.hidden_size)
        self.to(dev)

    @property
    def device(self) -> torch.device:
        return self.pooler.weight.device

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T) token ids → (sequence output (B, T, H), pooled first token (B, H)) (ALBERT chapter).

        ``token_type_ids`` (B, T) in [0, type_vocab_size), default all 0; ``attention_mask`` (B, T) of
        1 = a real token and 0 = padding (bool or integer), with at least one real token per sequence.
        """
        c = self.config
        check_token_ids(c, input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        else:
            _check_id_tensor("token_type_ids", token_type_ids, input_ids.shape, c.type_vocab_size, "type_vocab_size")
        mask = None
        if attention_mask is not None:  # 1 = attend, 0 = padding -> boolean mask broadcast over heads
            _check_mask(attention_mask, input_ids.shape)
            mask = attention_mask.to(self.device, torch.bool)[:, None, None, :]  # (B, 1, 1, T)
        input_ids = input_ids.to(self.device)
        x = self.embeddings(input_ids, token_type_ids.to(self.device))  # (B, T, E)
        if self.embedding_hidden_mapping_in is not None:
            x = self.embedding_hidden_mapping_in(x)  # (B, T, H)
        for layer in self.layers:  # the same weights, L times, when shared: compute still grows with L
            x = layer(x, mask)
        pooled = torch.tanh(self.pooler(x[:, 0]))  # (B, H)
        return x, pooled


CLOCKS = ("wall", "cpu")


def time_forward(model: AlbertEncoder, input_ids: torch.Tensor, repeats: int = 3, *, warmup: int = 1,
                 clock: str = "wall") -> float:
    """Median seconds of a forward pass (after ``warmup`` untimed ones), waiting for the GPU when there is one.

    The median of several repeats ignores the odd pass slowed by another process (ALBERT chapter).
    ``clock="wall"`` is elapsed time; ``clock="cpu"`` is this process's CPU time (all its threads), which
    other programs competing for the cores barely change: CPU models only, since it misses GPU work.
    """
    _check_encoder(model)
    check_token_ids(model.config, input_ids)
    repeats = check_int("repeats", repeats, low=1)
    warmup = check_int("warmup", warmup, low=0)
    check_choice("clock", clock, CLOCKS)
    if clock == "cpu" and model.device.type != "cpu":
        raise ValueError(f"clock='cpu' counts this process's CPU time and misses work on {model.device}: "
                         "use clock='wall' there")
    now = time.perf_counter if clock == "wall" else time.process_time

    def sync() -> None:
        if model.device.type == "cuda":
            torch.cuda.synchronize()

    times = []
    with torch.no_grad():
        for _ in range(warmup):
            model(input_ids)
        for _ in range(repeats):
            sync()
            start = now()
            model(input_ids)
            sync()
            times.append(now() - start)
    return sorted(times)[len(times) // 2]


# ----------------------------------------------------------------------------- counting a built module
def _check_encoder(model) -> AlbertEncoder:
    if not isinstance(model, AlbertEncoder):
        raise ArgumentError(f"model must be an AlbertEncoder, got {type(model).__name__}")
    return model


def module_counts(model: AlbertEncoder) -> ParameterCount:
    """Count a built encoder's unique parameters by part (``parameters()`` yields each shared tensor once)."""
    _check_encoder(model)
    parts = dict.fromkeys(ParameterCount.__dataclass_fields__, 0)
    for name, p in model.named_parameters():  # remove_duplicate=True: a shared tensor appears once
        if "LayerNorm" in name:
            part = "layer_norms"
        elif name.startswith("embeddings."):
            part = "embeddings"
        elif name.startswith("embedding_hidden_mapping_in"):
            part = "projection"
        elif ".attention." in name:
            part = "attention"
        elif ".ffn." in name:
            part = "feed_forward"
        elif name.startswith("pooler"):
            part = "pooler"
        else:  # pragma: no cover - a new parameter would need a part
            raise AssertionError(f"unclassified parameter {name}")
        parts[part] += p.numel()
    return ParameterCount(**parts)


@dataclass(frozen=True)
class NaiveCounts:
    """Three ways to count a model, two of them wrong for a shared model (the chapter's trap)."""

    parameters: int  # sum over model.parameters(): each tensor once (right)
    state_dict: int  # sum over state_dict(): a shared tensor once per place it is used (wrong)
    per_layer: int  # sum of each layer's own count, plus the rest: same double counting (wrong)


def naive_counts(model: AlbertEncoder) -> NaiveCounts:
    """Count ``model`` the right way and the two tempting wrong ways (ALBERT chapter's counting trap)."""
    _check_encoder(model)
    right = sum(p.numel() for p in model.parameters())
    by_state = sum(t.numel() for t in model.state_dict().values())
    rest = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("layers."))
    per_layer = rest + sum(sum(p.numel() for p in layer.parameters()) for layer in model.layers)
    return NaiveCounts(right, by_state, per_layer)


def format_count(n: int) -> str:
    """12345678 → '12.3M', as papers write parameter counts; a count that rounds up to the next unit takes it
    (999,950 → '1.0M', not '1000.0k')."""
    n = check_int("n", n, low=0)
    if n < 1000:
        return str(n)
    for scale, suffix in ((1e3, "k"), (1e6, "M")):  # the smallest unit whose printed number stays below 1000
        text = f"{n / scale:.1f}"
        if float(text) < 1000:
            return text + suffix
    return f"{n / 1e9:.2f}B"


def paper_rounding(n: int) -> int:
    """Round to whole millions, as the paper's tables print counts (0.5 rounds up)."""
    n = check_int("n", n, low=0)
    return math.floor(n / 1e6 + 0.5)
