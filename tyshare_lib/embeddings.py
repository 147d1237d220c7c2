"""Tied input and output word embeddings: a language model that uses one matrix twice.

Used by the chapter *Tied embeddings* (book/embeddings.ipynb). A word-level recurrent language model
embeds token i as row Eᵢ of a V × E matrix, and scores every word of the vocabulary as the next one
with an output layer

    logits = h Wᵀ + b,    W : V × E,   p(next = j | h) = softmax(logits)ⱼ

Press & Wolf (2017) and Inan et al. (2017) set W = E: one matrix looks words up on the way in and
scores them on the way out, and its gradient is the sum of both uses' gradients. When the recurrent
width H differs from E, a linear map H → E comes first, so h and the rows of E have the same length.
"""
from __future__ import annotations

import gzip
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources

import torch
from torch import nn
from torch.nn import functional as F

from .checks import ArgumentError, check_choice, check_int, check_real
from .device import cpu_threads, resolve_device
from .progress import progress

CELLS = ("lstm", "gru", "rnn")
GATES = {"lstm": 4, "gru": 3, "rnn": 1}  # weight blocks per layer in torch's nn.LSTM / nn.GRU / nn.RNN
UNK = "<unk>"
# Lower-cased words (with inner apostrophes: "know't", "o'er") and single punctuation marks.
TOKEN_PATTERN = re.compile(r"[a-z]+(?:'[a-z]+)*|[^\sa-z]")
_NO_SPACE_BEFORE = set(",.;:!?")


# ----------------------------------------------------------------------------- the corpus
@lru_cache(maxsize=1)
def load_shakespeare() -> str:
    """The tiny-Shakespeare corpus shipped with the library (1,115,394 characters; see data/README.md)."""
    raw = resources.files("tyshare_lib").joinpath("data/tinyshakespeare.txt.gz").read_bytes()
    return gzip.decompress(raw).decode("utf-8")


def tokenize(text: str) -> list[str]:
    """Lower-cased words and punctuation marks, in order (embeddings chapter)."""
    if not isinstance(text, str):
        raise ArgumentError(f"text must be a str, got {type(text).__name__}")
    return TOKEN_PATTERN.findall(text.lower())


def detokenize(tokens: Sequence[str]) -> str:
    """Tokens back to text: spaces between words, none before , . ; : ! ? (embeddings chapter)."""
    out = []
    for tok in tokens:
        if out and tok not in _NO_SPACE_BEFORE:
            out.append(" ")
        out.append(tok)
    return "".join(out)


class Vocabulary:
    """The most frequent tokens of a text plus ``<unk>`` (id 0), with encode/decode (embeddings chapter)."""

    def __init__(self, words: Sequence[str], counts: Sequence[int] | None = None):
        words = list(words)
        if not words or words[0] != UNK or len(set(words)) != len(words):
            raise ValueError("words must be distinct and start with '<unk>'")
        self.words = words
        self.counts = list(counts) if counts is not None else [0] * len(words)
        self.index = {w: i for i, w in enumerate(words)}

    @classmethod
    def build(cls, tokens: Sequence[str], size: int) -> Vocabulary:
        """The ``size - 1`` most frequent tokens (ties broken by first appearance) and ``<unk>``."""
        size = check_int("size", size, low=2)
        counter = Counter(tokens)
        common = counter.most_common(size - 1)
        unk = len(tokens) - sum(n for _, n in common)
        return cls([UNK] + [w for w, _ in common], [unk] + [n for _, n in common])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def encode(self, text_or_tokens: str | Sequence[str]) -> list[int]:
        """Token ids of a text (tokenized first) or of a list of tokens; unknown tokens become 0."""
        tokens = tokenize(text_or_tokens) if isinstance(text_or_tokens, str) else text_or_tokens
        return [self.index.get(t, 0) for t in tokens]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of a sequence of ids (a list or a 1-D tensor)."""
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self):
                raise ValueError(f"ids must be ints in [0, {len(self) - 1}], got {i!r}")
        return detokenize([self.words[i] for i in ids])

    def id(self, word: str) -> int:
        """The id of ``word``; raises if it is not in the vocabulary."""
        if word not in self.index:
            raise ValueError(f"word {word!r} is not in the vocabulary of {len(self)} words")
        return self.index[word]


@dataclass(frozen=True)
class Corpus:
    """A tokenized corpus split into training and validation ids (embeddings chapter)."""

    vocab: Vocabulary
    train: torch.Tensor  # (N_train,) int64 token ids, the first 90 %
    valid: torch.Tensor  # (N_valid,) int64, the last 10 %
    n_tokens: int  # tokens in the whole text

    @property
    def unk_rate(self) -> float:
        """Fraction of validation tokens that are <unk>."""
        return float((self.valid == 0).float().mean())


@lru_cache(maxsize=8)
def _tokens_of_shakespeare() -> tuple[str, ...]:
    return tuple(tokenize(load_shakespeare()))


def load_corpus(vocab_size: int = 2000, valid_fraction: float = 0.1) -> Corpus:
    """Shakespeare as token ids: the first (1 − valid_fraction) of the tokens train, the rest validate.

    The vocabulary holds the ``vocab_size - 1`` most frequent tokens *of the training part* (so the
    validation text does not choose it) and ``<unk>``. Tokenizing is cached: a second call is instant.
    """
    vocab_size = check_int("vocab_size", vocab_size, low=2)
    valid_fraction = check_real("valid_fraction", valid_fraction, low=0.0)
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must be in (0, 1), got {valid_fraction}")
    return _load_corpus(vocab_size, valid_fraction)


@lru_cache(maxsize=8)
def _load_corpus(vocab_size: int, valid_fraction: float) -> Corpus:
    tokens = _tokens_of_shakespeare()
    cut = int(round(len(tokens) * (1 - valid_fraction)))
    vocab = Vocabulary.build(tokens[:cut], vocab_size)
    ids = torch.tensor(vocab.encode(tokens), dtype=torch.long)
    return Corpus(vocab, ids[:cut], ids[cut:], len(tokens))


# ----------------------------------------------------------------------------- the model
@dataclass(frozen=True)
class LMConfig:
    """Sizes of a word-level recurrent language model (embeddings chapter)."""

    vocab_size: int = 2000  # V: rows of the embedding matrix and outputs of the softmax
    embedding_size: int = 64  # E: width of a word vector
    hidden_size: int = 64  # H: width of the recurrent state
    num_layers: int = 1  # stacked recurrent layers
    cell: str = "lstm"  # "lstm", "gru" or "rnn" (torch's nn.LSTM, nn.GRU, nn.RNN)
    tie: bool = False  # decoder.weight is encoder.weight (a projection H → E first when E ≠ H)
    dropout: float = 0.0  # on the embeddings, between layers and before the output layer

    def __post_init__(self):
        for name in ("vocab_size", "embedding_size", "hidden_size", "num_layers"):
            check_int(name, getattr(self, name), low=2 if name == "vocab_size" else 1)
        check_choice("cell", self.cell, CELLS)
        if not isinstance(self.tie, bool):
            raise ArgumentError(f"tie must be a bool, got {type(self.tie).__name__} {self.tie!r}")
        dropout = check_real("dropout", self.dropout, low=0.0)
        if dropout >= 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")

    def with_(self, **changes) -> LMConfig:
        """A copy with some fields changed (checked again)."""
        return replace(self, **changes)

    @property
    def has_projection(self) -> bool:
        """True when the tie needs a linear map from the hidden size to the embedding size."""
        return self.tie and self.embedding_size != self.hidden_size


class LanguageModel(nn.Module):
    """Embedding → recurrent layers → (projection) → output layer with a bias (embeddings chapter).

    With ``config.tie`` the output layer's weight *is* the embedding's: ``decoder.weight is encoder.weight``.
    """

    def __init__(self, config: LMConfig, device: str | torch.device | None = None):
        super().__init__()
        if not isinstance(config, LMConfig):
            raise ArgumentError(f"config must be an LMConfig, got {type(config).__name__}")
        self.config = c = config
        dev = resolve_device(device)
        self.drop = nn.Dropout(c.dropout)
        self.encoder = nn.Embedding(c.vocab_size, c.embedding_size, device=dev)
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[c.cell]
        self.rnn = rnn(c.embedding_size, c.hidden_size, c.num_layers, batch_first=True,
                       dropout=c.dropout if c.num_layers > 1 else 0.0, device=dev)
        out_size = c.embedding_size if c.tie else c.hidden_size
        self.projection = nn.Linear(c.hidden_size, c.embedding_size, device=dev) if c.has_projection else None
        self.decoder = nn.Linear(out_size, c.vocab_size, device=dev)
        # Uniform ±0.1 for both matrices, as PyTorch's word_language_model example does: torch's default
        # N(0, 1) embedding would make a tied decoder start with logits of size √E.
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        if c.tie:
            self.decoder.weight = self.encoder.weight  # THE TIE: one nn.Parameter, two uses

    def forward(self, ids: torch.Tensor, state=None):
        """Logits (B, T, V) for token ids (B, T), and the recurrent state after the last token."""
        x = self.drop(self.encoder(ids))  # (B, T, E): rows of E looked up
        h, state = self.rnn(x, state)  # (B, T, H)
        h = self.drop(h)
        if self.projection is not None:
            h = self.projection(h)  # (B, T, E)
        return self.decoder(h), state  # (B, T, V) = h Wᵀ + b, W = E when tied

    @property
    def input_embedding(self) -> torch.Tensor:
        """The V × E matrix that looks words up."""
        return self.encoder.weight

    @property
    def output_embedding(self) -> torch.Tensor:
        """The V × (E or H) matrix that scores words (the same tensor when tied)."""
        return self.decoder.weight


def untied_twin(model: LanguageModel) -> LanguageModel:
    """An untied copy of a tied model with the same values: encoder and decoder get separate copies of E.

    Its two matrices' gradients are the two uses' contributions to the tied matrix's gradient.
    """
    if not isinstance(model, LanguageModel):
        raise ArgumentError(f"model must be a LanguageModel, got {type(model).__name__}")
    if not model.config.tie:
        raise ValueError("model must be tied (config.tie=True) to have an untied twin")
    dev = model.encoder.weight.device
    twin = LanguageModel(model.config.with_(tie=False), device=dev)
    # The untied model's decoder reads H-vectors; with a projection the twin keeps it in front.
    twin.projection = None if model.projection is None else nn.Linear(
        model.config.hidden_size, model.config.embedding_size, device=dev)
    twin.decoder = nn.Linear(model.config.embedding_size, model.config.vocab_size, device=dev)
    with torch.no_grad():
        twin.load_state_dict({k: v.clone() for k, v in model.state_dict().items()})
    assert twin.decoder.weight is not twin.encoder.weight
    return twin


@dataclass(frozen=True)
class LMCount:
    """Parameters of a language model by part; ``total`` is what ``model.parameters()`` sums to."""

    embedding: int  # V·E
    recurrent: int  # every recurrent layer's weights and both of torch's bias vectors
    projection: int  # H·E + E when tied with E ≠ H, else 0
    decoder_weight: int  # V·H untied; 0 when tied (it is the embedding)
    decoder_bias: int  # V

    @property
    def total(self) -> int:
        return self.embedding + self.recurrent + self.projection + self.decoder_weight + self.decoder_bias

    def as_dict(self) -> dict[str, int]:
        """The parts in display order, without the total."""
        return {"embedding": self.embedding, "recurrent": self.recurrent, "projection": self.projection,
                "decoder_weight": self.decoder_weight, "decoder_bias": self.decoder_bias}


def recurrent_count(cell: str, input_size: int, hidden_size: int) -> int:
    """Parameters of one torch recurrent layer: g·H·(in + H) weights and two bias vectors of g·H."""
    check_choice("cell", cell, CELLS)
    check_int("input_size", input_size, low=1)
    check_int("hidden_size", hidden_size, low=1)
    g = GATES[cell]
    return g * hidden_size * (input_size + hidden_size) + 2 * g * hidden_size


def count_lm_parameters(config: LMConfig) -> LMCount:
    """The model's parameter count in closed form, without building it (embeddings chapter).

    Equal to ``sum(p.numel() for p in LanguageModel(config).parameters())`` for every config (tested):
    ``parameters()`` yields a tied matrix once, so the tie removes the V·H decoder weight.
    """
    if not isinstance(config, LMConfig):
        raise ArgumentError(f"config must be an LMConfig, got {type(config).__name__}")
    c = config
    V, E, H = c.vocab_size, c.embedding_size, c.hidden_size
    recurrent = sum(recurrent_count(c.cell, E if layer == 0 else H, H) for layer in range(c.num_layers))
    return LMCount(embedding=V * E, recurrent=recurrent, projection=H * E + E if c.has_projection else 0,
                   decoder_weight=0 if c.tie else V * H, decoder_bias=V)


def tie_savings(config: LMConfig) -> float:
    """Fraction of the untied model's parameters that tying removes (the same sizes, E = H or not)."""
    untied = count_lm_parameters(config.with_(tie=False)).total
    tied = count_lm_parameters(config.with_(tie=True)).total
    return 1 - tied / untied


def matching_width(config: LMConfig, target: int) -> int:
    """The width W (E = H = W) at which the tied version of ``config`` has the parameter count closest
    to ``target`` (embeddings chapter: a tied model widened to the untied one's budget)."""
    if not isinstance(config, LMConfig):
        raise ArgumentError(f"config must be an LMConfig, got {type(config).__name__}")
    target = check_int("target", target, low=1)
    count = lambda w: count_lm_parameters(config.with_(tie=True, embedding_size=w, hidden_size=w)).total  # noqa: E731
    lo, hi = 1, 1
    while count(hi) < target:
        hi *= 2
    while hi - lo > 1:  # the count grows with the width: bisect
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if count(mid) < target else (lo, mid)
    return min((lo, hi), key=lambda w: abs(count(w) - target))


# ----------------------------------------------------------------------------- Press & Wolf's PTB models
@dataclass(frozen=True)
class PaperModel:
    """A PTB model of Press & Wolf (2017), Zaremba et al.'s sizes, with the size the paper reports."""

    name: str
    config: LMConfig  # untied; .with_(tie=True) is the tied one
    paper_untied: float | None  # millions, as printed (None: not in the paper's tables)
    paper_tied: float | None
    source: str


def paper_models() -> list[PaperModel]:
    """Zaremba et al.'s small (2 × 200), medium (2 × 650) and large (2 × 1500) LSTMs, V = 10,000.

    Sizes from Press & Wolf (2017): Table 5 (large: 66M untied, 51M tied) and Table 6 (small, without
    dropout: 4.65M and 2.65M). The medium model is not in those tables.
    """
    ptb = lambda h: LMConfig(vocab_size=10_000, embedding_size=h, hidden_size=h, num_layers=2)  # noqa: E731
    return [PaperModel("small (2 × 200)", ptb(200), 4.65, 2.65, "Press & Wolf, Table 6"),
            PaperModel("medium (2 × 650)", ptb(650), None, None, "not in Press & Wolf's tables"),
            PaperModel("large (2 × 1500)", ptb(1500), 66, 51, "Press & Wolf, Table 5")]


# ----------------------------------------------------------------------------- training
def _check_tokens(name: str, tokens, vocab_size: int | None = None, min_len: int = 2) -> torch.Tensor:
    if not isinstance(tokens, torch.Tensor) or tokens.dtype != torch.long or tokens.ndim != 1:
        raise ArgumentError(f"{name} must be a 1-D int64 tensor of token ids, got "
                            f"{type(tokens).__name__}{'' if not isinstance(tokens, torch.Tensor) else f' {tokens.dtype} {tuple(tokens.shape)}'}")
    if len(tokens) < min_len:
        raise ValueError(f"{name} must hold at least {min_len} tokens, got {len(tokens)}")
    if vocab_size is not None and (int(tokens.min()) < 0 or int(tokens.max()) >= vocab_size):
        raise ValueError(f"{name} must hold ids in [0, {vocab_size - 1}] (the model's vocabulary)")
    return tokens


def sample_batch(tokens: torch.Tensor, batch_size: int, seq_len: int,
                 generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows: inputs (B, T) and their next tokens (B, T), on the tokens' device (embeddings chapter)."""
    _check_tokens("tokens", tokens, min_len=seq_len + 1)
    starts = torch.randint(0, len(tokens) - seq_len, (batch_size,), generator=generator)  # (B,) on the CPU
    index = starts[:, None] + torch.arange(seq_len + 1)  # (B, T + 1)
    windows = tokens[index.to(tokens.device)]
    return windows[:, :-1], windows[:, 1:]


@torch.no_grad()
def perplexity(model: LanguageModel, tokens: torch.Tensor, seq_len: int = 64, batch_size: int = 64) -> float:
    """exp(mean next-token cross-entropy) over ``tokens``, read in windows of ``seq_len`` (embeddings chapter).

    Each window starts from a zero state, as in training; every token but the first is predicted once.
    """
    if not isinstance(model, LanguageModel):
        raise ArgumentError(f"model must be a LanguageModel, got {type(model).__name__}")
    seq_len = check_int("seq_len", seq_len, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    _check_tokens("tokens", tokens, model.config.vocab_size)
    dev = model.encoder.weight.device
    tokens = tokens.to(dev)
    n = (len(tokens) - 1) // seq_len
    was_training = model.training
    model.eval()
    total, count = torch.zeros((), device=dev, dtype=torch.float64), 0
    windows = [(tokens[:n * seq_len].view(n, seq_len), tokens[1:n * seq_len + 1].view(n, seq_len))]
    rest = len(tokens) - 1 - n * seq_len
    if rest:
        windows.append((tokens[n * seq_len:-1][None], tokens[n * seq_len + 1:][None]))
    for x_all, y_all in windows:
        for i in range(0, len(x_all), batch_size):
            x, y = x_all[i:i + batch_size], y_all[i:i + batch_size]  # (b, T)
            logits, _ = model(x)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").double()
            count += y.numel()
    model.train(was_training)
    return math.exp(float(total) / count)


@dataclass
class TrainResult:
    """What :func:`train_lm` returns: the trained model and its curves (embeddings chapter)."""

    model: LanguageModel
    parameters: int  # unique parameters (a tied matrix once)
    train_loss: list[float]  # mean cross-entropy of every step's batch (nats)
    eval_steps: list[int] = field(default_factory=list)  # steps after which the validation set was read
    valid_perplexity: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final_perplexity(self) -> float:
        """Validation perplexity at the end of training."""
        return self.valid_perplexity[-1]


def train_lm(config: LMConfig, train_tokens: torch.Tensor, valid_tokens: torch.Tensor | None = None, *,
             steps: int = 200, batch_size: int = 32, seq_len: int = 32, lr: float = 3e-3, clip: float = 1.0,
             eval_every: int = 50, seed: int = 0, device: str | torch.device | None = None,
             desc: str = "training") -> TrainResult:
    """Adam on random windows of ``train_tokens``; validation perplexity every ``eval_every`` steps and at
    the end (embeddings chapter). Seeded: the same config and seed give the same numbers on a device.

    On the CPU it runs on one intra-op thread (:func:`~tyshare_lib.device.cpu_threads`, as every chapter's
    trainer): measured here, the chapter's three models took 1.5× longer on one thread than on two on an
    idle 2-core machine, but two threads were ~10× slower (and ~7× the CPU time) while other jobs ran.
    """
    if not isinstance(config, LMConfig):
        raise ArgumentError(f"config must be an LMConfig, got {type(config).__name__}")
    steps = check_int("steps", steps, low=0)
    batch_size = check_int("batch_size", batch_size, low=1)
    seq_len = check_int("seq_len", seq_len, low=1)
    lr = check_real("lr", lr, low=0.0)
    clip = check_real("clip", clip, low=0.0)
    eval_every = check_int("eval_every", eval_every, low=1)
    seed = check_int("seed", seed, low=0)
    _check_tokens("train_tokens", train_tokens, config.vocab_size, min_len=seq_len + 1)
    if valid_tokens is not None:
        _check_tokens("valid_tokens", valid_tokens, config.vocab_size)
    dev = resolve_device(device)
    with cpu_threads(dev):
        return _train_lm(config, train_tokens, valid_tokens, steps, batch_size, seq_len, lr, clip, eval_every,
                         seed, dev, desc)


def _train_lm(config, train_tokens, valid_tokens, steps, batch_size, seq_len, lr, clip, eval_every, seed, dev,
              desc) -> TrainResult:
    torch.manual_seed(seed)  # the initial weights and the dropout masks
    model = LanguageModel(config, device=dev)
    g = torch.Generator().manual_seed(seed)  # the batches: the same windows for every model
    train_tokens = train_tokens.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)  # a tied matrix is one parameter, stepped once
    result = TrainResult(model, sum(p.numel() for p in model.parameters()), [])
    losses = torch.empty(steps, device=dev)
    start = time.perf_counter()
    model.train()
    for step in progress(range(1, steps + 1), desc=desc):
        x, y = sample_batch(train_tokens, batch_size, seq_len, g)  # (B, T), (B, T)
        logits, _ = model(x)  # (B, T, V)
        loss = F.cross_entropy(logits.reshape(-1, config.vocab_size), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses[step - 1] = loss.detach()
        if valid_tokens is not None and (step % eval_every == 0 or step == steps):
            result.eval_steps.append(step)
            result.valid_perplexity.append(perplexity(model, valid_tokens))
    if valid_tokens is not None and steps == 0:
        result.eval_steps.append(0)
        result.valid_perplexity.append(perplexity(model, valid_tokens))
    result.train_loss = losses.cpu().tolist()
    result.seconds = time.perf_counter() - start
    model.eval()
    return result


# ----------------------------------------------------------------------------- which embedding is better?
def _check_matrix(name: str, m) -> torch.Tensor:
    if not isinstance(m, torch.Tensor) or m.ndim != 2 or not m.is_floating_point():
        raise ArgumentError(f"{name} must be a 2-D floating tensor (one row per word), got "
                            f"{type(m).__name__}{tuple(m.shape) if isinstance(m, torch.Tensor) else ''}")
    return m


def cosine_matrix(embedding: torch.Tensor, ids: Sequence[int]) -> torch.Tensor:
    """Cosine similarity between the rows ``ids`` of ``embedding`` and every row: (len(ids), V) on the CPU."""
    e = _check_matrix("embedding", embedding).detach().float().cpu()
    for i in ids:
        check_int("ids[...]", i, low=0, high=e.shape[0] - 1)
    unit = e / e.norm(dim=1, keepdim=True).clamp_min(1e-12)  # (V, D)
    return unit[list(ids)] @ unit.T  # (n, V)


def nearest_neighbours(embedding: torch.Tensor, vocab: Vocabulary, word: str, k: int = 5,
                       skip_unk: bool = True) -> list[tuple[str, float]]:
    """The ``k`` words whose rows are closest (cosine) to ``word``'s, with their similarities (embeddings chapter)."""
    if not isinstance(vocab, Vocabulary):
        raise ArgumentError(f"vocab must be a Vocabulary, got {type(vocab).__name__}")
    k = check_int("k", k, low=1)
    _check_matrix("embedding", embedding)
    if embedding.shape[0] != len(vocab):
        raise ValueError(f"embedding has {embedding.shape[0]} rows but vocab has {len(vocab)} words")
    i = vocab.id(word)
    sims = cosine_matrix(embedding, [i])[0]  # (V,)
    sims[i] = -math.inf
    if skip_unk:
        sims[0] = -math.inf
    top = torch.topk(sims, k)
    return [(vocab.words[j], float(s)) for s, j in zip(top.values, top.indices.tolist())]


def _ranks(x: torch.Tensor) -> torch.Tensor:
    r = torch.empty_like(x)
    r[x.argsort()] = torch.arange(len(x), dtype=x.dtype)
    return r


def similarity_agreement(a: torch.Tensor, b: torch.Tensor, ids: Sequence[int]) -> float:
    """Spearman correlation between the pairwise cosine similarities of the words ``ids`` in two embeddings.

    1 means both embeddings rank every pair of these words alike; the matrices may have different
    widths (embeddings chapter: how much the tied embedding behaves like the input or the output one).
    """
    _check_matrix("a", a)
    _check_matrix("b", b)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"a and b must have one row per word of the same vocabulary, got {a.shape[0]} and {b.shape[0]}")
    ids = list(ids)
    if len(ids) < 3 or len(set(ids)) != len(ids):
        raise ValueError(f"ids must hold at least 3 distinct word ids, got {len(ids)}")
    pairs = torch.triu_indices(len(ids), len(ids), offset=1)
    sa = cosine_matrix(a, ids)[:, ids][pairs[0], pairs[1]].double()  # (n(n−1)/2,)
    sb = cosine_matrix(b, ids)[:, ids][pairs[0], pairs[1]].double()
    ra, rb = _ranks(sa), _ranks(sb)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / (ra.norm() * rb.norm()))
