"""A Token Turing Machine (Ryoo et al., arXiv 2211.09119) that learns multi-digit multiplication.

Each step reads r tokens from [memory, input] by token summarization, processes them with a small
transformer, and writes [memory, processed, input] back into m memory tokens. The answer token of a
step is read off the processed tokens. Shapes: B batch, m memory tokens, r read tokens, n input
tokens per step, d width, V vocabulary.
"""
from __future__ import annotations

import contextlib
import math
import operator
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import tokens as tok
from .hooks import HookPoint

SUMMARIZERS = ("mlp", "query", "pool")
WRITE_RULES = ("summarize", "erase_add", "fifo")
# What each write rule summarizes into memory, in the column order of its write.weights.
WRITE_SOURCES = {"summarize": ("memory", "processed", "input"),   # SummarizeWrite
                 "erase_add": ("processed",),                     # EraseAddWrite
                 "fifo": ("memory", "processed")}                 # FifoWrite
CARRY_SCALE = 10.0   # the carry probe is trained on carries / 10, so its targets stay near 0-1


@dataclass
class TTMConfig:
    vocab_size: int = tok.VOCAB_SIZE
    dim: int = 128               # d: width of every token
    memory_tokens: int = 96      # m
    read_tokens: int = 16        # r
    layers: int = 4              # processing unit depth (pre-norm transformer)
    heads: int = 4
    mlp_dim: int = 512
    dropout: float = 0.1         # training only; eval is deterministic
    max_digits: int = 4          # longest operand the model accepts
    summarizer: str = "mlp"      # "mlp" (TokenLearner importance weights), "query", "pool"
    summarizer_hidden: int = 64  # bottleneck of the TokenLearner MLP
    write_rule: str = "summarize"  # "summarize", "erase_add" (NTM), "fifo" (concatenation)
    use_memory: bool = True      # False: the memory-less ablation (m = 0)
    carry_loss: float = 0.0      # > 0: weight of an auxiliary loss that reads each step's carry
                                 # out of the memory it wrote (after Bai et al. 2025); 0: no head
    pad_operands: bool = False   # operands zero-padded to max_digits in the input (Shen et al. 2023)

    def __post_init__(self):
        if self.summarizer not in SUMMARIZERS:
            raise ValueError(f"summarizer {self.summarizer!r} is not one of {SUMMARIZERS}")
        if self.write_rule not in WRITE_RULES:
            raise ValueError(f"write_rule {self.write_rule!r} is not one of {WRITE_RULES}")
        if self.dim % self.heads:
            raise ValueError(f"dim {self.dim} is not divisible by heads {self.heads}")
        if self.write_rule == "fifo" and self.read_tokens > self.memory_tokens:
            raise ValueError("fifo writing needs read_tokens <= memory_tokens")
        if self.carry_loss < 0 or (self.carry_loss > 0 and not self.use_memory):
            raise ValueError(f"carry_loss must be >= 0, and 0 without memory; got {self.carry_loss}")

    @classmethod
    def tiny(cls, **overrides) -> "TTMConfig":
        """A small model that trains and runs in seconds on a CPU: `app.py --tiny` and the tests."""
        base = dict(dim=32, memory_tokens=8, read_tokens=4, layers=2, heads=2, mlp_dim=64,
                    summarizer_hidden=16, max_digits=3)
        return cls(**{**base, **overrides})

    @property
    def m(self) -> int:
        return self.memory_tokens if self.use_memory else 0

    @property
    def input_tokens(self) -> int:
        """n: a step's input width, set by the first step's `a × b EOS`."""
        return 2 * self.max_digits + 2

    @property
    def operand_width(self) -> int | None:
        """Digits each operand is padded to in the input (None: as written)."""
        return self.max_digits if self.pad_operands else None

    @property
    def max_steps(self) -> int:
        """Longest answer (2 * max_digits digits) plus its EOS."""
        return 2 * self.max_digits + 1

    def sources(self, weights: str) -> dict[str, int]:
        """The tokens that the columns of `weights` ("read.weights" or "write.weights") stand
        for, in column order, with their counts: the read takes [memory, input]; what the write
        takes depends on the write rule."""
        length = {"memory": self.m, "processed": self.read_tokens, "input": self.input_tokens}
        if weights == "read.weights":
            parts = ("memory", "input")
        elif weights == "write.weights":
            parts = WRITE_SOURCES[self.write_rule]
        else:
            raise ValueError(f"sources are known for read.weights and write.weights, not {weights!r}")
        return {part: length[part] for part in parts}

    def to_dict(self) -> dict:
        return asdict(self)


@contextlib.contextmanager
def evaluating(model: nn.Module):
    """Eval mode (no dropout) inside the block; afterwards the mode the model was in."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def masked_softmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis, ignoring masked-out tokens (a row with none valid uses all)."""
    mask = mask | ~mask.any(-1, keepdim=True)
    return torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=-1)


class MLPSummarizer(nn.Module):
    """TokenLearner v1.1: an MLP scores every source token for each of k outputs; softmax over tokens."""

    def __init__(self, cfg: TTMConfig, k: int, n_source: int):
        super().__init__()
        self.norm = nn.LayerNorm(cfg.dim)
        self.score = nn.Sequential(nn.Linear(cfg.dim, cfg.summarizer_hidden), nn.GELU(),
                                   nn.Dropout(cfg.dropout), nn.Linear(cfg.summarizer_hidden, k))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits = self.score(self.norm(x)).transpose(1, 2)  # (B, k, N)
        return masked_softmax(logits, mask.unsqueeze(1))


class QuerySummarizer(nn.Module):
    """k learned queries attend over the source tokens (single head, softmax over tokens)."""

    def __init__(self, cfg: TTMConfig, k: int, n_source: int):
        super().__init__()
        self.queries = nn.Parameter(torch.randn(k, cfg.dim) * 0.02)
        self.norm = nn.LayerNorm(cfg.dim)
        self.key = nn.Linear(cfg.dim, cfg.dim)
        self.scale = 1.0 / math.sqrt(cfg.dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        keys = self.key(self.norm(x))                              # (B, N, d)
        logits = torch.matmul(self.queries, keys.transpose(1, 2))  # (B, k, N)
        return masked_softmax(logits * self.scale, mask.unsqueeze(1))


class PoolSummarizer(nn.Module):
    """Adaptive average pooling: output i averages the i-th contiguous bin of valid source tokens."""

    def __init__(self, cfg: TTMConfig, k: int, n_source: int):
        super().__init__()
        pos = torch.arange(n_source)
        bins = torch.div(pos * k, n_source, rounding_mode="floor")
        self.register_buffer("bins", F.one_hot(bins, k).T.float(), persistent=False)  # (k, N)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        valid = mask.unsqueeze(1).float()                          # (B, 1, N)
        weights = self.bins * valid                                # (B, k, N)
        total = weights.sum(-1, keepdim=True)
        fallback = valid / valid.sum(-1, keepdim=True).clamp_min(1.0)
        return torch.where(total > 0, weights / total.clamp_min(1e-9), fallback)


SUMMARIZER_CLASSES = {"mlp": MLPSummarizer, "query": QuerySummarizer, "pool": PoolSummarizer}


class Summarize(nn.Module):
    """Token summarization of N source tokens down to k, exposing the (B, k, N) importance weights."""

    def __init__(self, cfg: TTMConfig, k: int, n_source: int, name: str):
        super().__init__()
        self.weights_of = SUMMARIZER_CLASSES[cfg.summarizer](cfg, k, n_source)
        self.hook_weights = HookPoint(f"{name}.weights")  # (B, k, N)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Weights are computed from `x` (tokens tagged with their source type); the summary
        mixes the untagged `values`, so tags steer the choice without leaking into memory."""
        weights = self.hook_weights(self.weights_of(x, mask))
        return torch.matmul(weights, values)                       # (B, k, d)


class SelfAttention(nn.Module):
    def __init__(self, cfg: TTMConfig, layer: int):
        super().__init__()
        self.heads = cfg.heads
        self.qkv = nn.Linear(cfg.dim, 3 * cfg.dim)
        self.proj = nn.Linear(cfg.dim, cfg.dim)
        self.attn_drop = nn.Dropout(cfg.dropout)
        self.resid_drop = nn.Dropout(cfg.dropout)
        self.scale = 1.0 / math.sqrt(cfg.dim // cfg.heads)
        self.hook_attn = HookPoint(f"process.layer{layer}.attn")  # (B, heads, r, r)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).chunk(3, dim=-1)                   # (B, r, d) each
        q, k, v = (t.unflatten(-1, (self.heads, -1)).transpose(1, 2) for t in (q, k, v))
        att = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * self.scale, dim=-1)
        att = self.attn_drop(self.hook_attn(att))                 # (B, h, r, r)
        y = torch.matmul(att, v).transpose(1, 2).flatten(2)       # (B, r, d)
        return self.resid_drop(self.proj(y))


class Block(nn.Module):
    def __init__(self, cfg: TTMConfig, layer: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.dim)
        self.attn = SelfAttention(cfg, layer)
        self.ln2 = nn.LayerNorm(cfg.dim)
        self.mlp = nn.Sequential(nn.Linear(cfg.dim, cfg.mlp_dim), nn.GELU(),
                                 nn.Linear(cfg.mlp_dim, cfg.dim), nn.Dropout(cfg.dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ProcessingUnit(nn.Module):
    """The pre-norm transformer that processes the r read tokens."""

    def __init__(self, cfg: TTMConfig):
        super().__init__()
        self.blocks = nn.ModuleList(Block(cfg, i) for i in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


class SummarizeWrite(nn.Module):
    """The paper's write: summarize [memory, processed, input] back to m tokens."""

    def __init__(self, cfg: TTMConfig):
        super().__init__()
        self.summarize = Summarize(cfg, cfg.m, cfg.m + cfg.read_tokens + cfg.input_tokens, "write")

    def forward(self, memory, processed, inputs, input_mask, types):
        values = torch.cat([memory, processed, inputs], dim=1)      # (B, m+r+n, d)
        tagged = torch.cat([memory + types[0], processed + types[2], inputs + types[1]], dim=1)
        keep = torch.ones_like(values[:, : memory.shape[1] + processed.shape[1], 0], dtype=torch.bool)
        return self.summarize(tagged, torch.cat([keep, input_mask], dim=1), values)


class EraseAddWrite(nn.Module):
    """NTM-style write: each processed token addresses memory slots by content, erases, then adds.

    write.weights is (B, m, r): how strongly processed token j writes into memory slot i.
    """

    def __init__(self, cfg: TTMConfig):
        super().__init__()
        self.norm_mem = nn.LayerNorm(cfg.dim)
        self.norm_proc = nn.LayerNorm(cfg.dim)
        self.query = nn.Linear(cfg.dim, cfg.dim)
        self.key = nn.Linear(cfg.dim, cfg.dim)
        self.erase = nn.Linear(cfg.dim, cfg.dim)
        self.add = nn.Linear(cfg.dim, cfg.dim)
        self.scale = 1.0 / math.sqrt(cfg.dim)
        self.hook_weights = HookPoint("write.weights")

    def forward(self, memory, processed, inputs, input_mask, types):
        proc = self.norm_proc(processed)
        logits = torch.matmul(self.key(self.norm_mem(memory)), self.query(proc).transpose(1, 2))
        weights = self.hook_weights(torch.softmax(logits * self.scale, dim=1))  # (B, m, r), over slots
        erase = torch.sigmoid(self.erase(proc))                                  # (B, r, d)
        keep = torch.prod(1 - weights.unsqueeze(-1) * erase.unsqueeze(1), dim=2)  # (B, m, d)
        return memory * keep + torch.matmul(weights, self.add(proc))


class FifoWrite(nn.Module):
    """Concatenation write: append the r processed tokens and drop the r oldest memory tokens."""

    def __init__(self, cfg: TTMConfig):
        super().__init__()
        m, r = cfg.m, cfg.read_tokens
        select = torch.zeros(m, m + r)
        select[torch.arange(m), torch.arange(r, m + r)] = 1.0
        self.register_buffer("select", select, persistent=False)  # (m, m+r)
        self.hook_weights = HookPoint("write.weights")

    def forward(self, memory, processed, inputs, input_mask, types):
        weights = self.hook_weights(self.select.expand(memory.shape[0], -1, -1))
        return torch.matmul(weights, torch.cat([memory, processed], dim=1))


WRITE_CLASSES = {"summarize": SummarizeWrite, "erase_add": EraseAddWrite, "fifo": FifoWrite}


class TTMStep(nn.Module):
    """One read-process-write step. Free of data-dependent control flow so torch.fx can trace it."""

    def __init__(self, cfg: TTMConfig):
        super().__init__()
        self.use_memory = cfg.use_memory
        self.source_type = nn.Parameter(torch.randn(3, cfg.dim) * 0.02)  # memory, input, output
        self.read = Summarize(cfg, cfg.read_tokens, cfg.m + cfg.input_tokens, "read")
        self.hook_read = HookPoint("read.tokens")                          # (B, r, d)
        self.process = ProcessingUnit(cfg)
        self.hook_processed = HookPoint("processed")                       # (B, r, d)
        self.write = WRITE_CLASSES[cfg.write_rule](cfg) if cfg.use_memory else None
        self.hook_memory = HookPoint("memory")                             # (B, m, d)
        self.head_norm = nn.LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, cfg.vocab_size)
        self.hook_logits = HookPoint("logits")                             # (B, V)

    def forward(self, memory: torch.Tensor, inputs: torch.Tensor, input_mask: torch.Tensor):
        """memory (B, m, d), inputs (B, n, d), input_mask (B, n) -> new memory, logits (B, V)."""
        types = self.source_type
        read_mask = torch.cat([torch.ones_like(memory[:, :, 0], dtype=torch.bool), input_mask], dim=1)
        tagged = torch.cat([memory + types[0], inputs + types[1]], dim=1)
        read = self.hook_read(self.read(tagged, read_mask, tagged))                   # (B, r, d)
        processed = self.hook_processed(self.process(read))                           # (B, r, d)
        if self.write is not None:
            memory = self.write(memory, processed, inputs, input_mask, types)
        memory = self.hook_memory(memory)
        logits = self.hook_logits(self.head(self.head_norm(processed.mean(dim=1))))
        return memory, logits


class TTM(nn.Module):
    def __init__(self, config: TTMConfig):
        super().__init__()
        self.config = config
        d = config.dim
        self.token_embedding = nn.Embedding(config.vocab_size, d)
        self.input_position = nn.Parameter(torch.randn(config.input_tokens, d) * 0.02)
        # Which answer digit a step produces is not visible in its single input token; a learned
        # step embedding tells it, so memory can hold operands and carries instead of a counter.
        self.step_embedding = nn.Parameter(torch.randn(config.max_steps, d) * 0.02)
        self.memory_init = nn.Parameter(torch.randn(config.m, d) * 0.01)
        self.step = TTMStep(config)
        # The carry a step passes on can only reach the next step through memory, so the probe
        # reads it there (mean over slots): supervising it asks memory to hold the running carry.
        self.carry_head = nn.Linear(d, 1) if config.carry_loss > 0 else None

    @property
    def device(self) -> torch.device:
        return self.memory_init.device

    def configure_optimizers(self, weight_decay: float, lr: float, betas) -> torch.optim.AdamW:
        """AdamW that decays the weight matrices only: biases, norms and the embedding tables
        (token, step) are left undecayed, as in nanoGPT."""
        decay, no_decay = [], []
        for name, p in self.named_parameters():
            (decay if p.dim() >= 2 and "embedding" not in name else no_decay).append(p)
        return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                  {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas)

    def initial_memory(self, batch: int) -> torch.Tensor:
        return self.memory_init.unsqueeze(0).expand(batch, -1, -1)  # (B, m, d)

    def embed(self, step_tokens: torch.Tensor, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        """step_tokens (B, n) -> embedded inputs (B, n, d) and validity mask (B, n)."""
        x = self.token_embedding(step_tokens) + self.input_position + self.step_embedding[t]
        return x, step_tokens != tok.PAD

    def next_input(self, token: torch.Tensor) -> torch.Tensor:
        """The input of the step after one that produced `token` (B,): that token, then PAD."""
        step_tokens = torch.full((token.shape[0], self.config.input_tokens), tok.PAD,
                                 dtype=torch.long, device=token.device)
        step_tokens[:, 0] = token
        return step_tokens

    def forward(self, problem: torch.Tensor, targets: torch.Tensor):
        """Teacher-forced run. problem (B, n), targets (B, T) PAD-padded -> logits (B, T, V), loss."""
        memory = self.initial_memory(problem.shape[0])
        step_tokens, logits, carried = problem, [], []
        for t in range(targets.shape[1]):
            memory, step_logits = self.step(memory, *self.embed(step_tokens, t))
            logits.append(step_logits)
            if self.carry_head is not None:
                carried.append(self._carry_probe(memory))                     # (B,)
            step_tokens = self.next_input(targets[:, t])
        logits = torch.stack(logits, dim=1)                          # (B, T, V)
        loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(),
                               ignore_index=tok.PAD)
        if self.carry_head is not None:
            loss = loss + self.config.carry_loss * self.carry_error(problem, torch.stack(carried, 1))
        return logits, loss

    def _carry_probe(self, memory: torch.Tensor) -> torch.Tensor:
        """The probe on memory (..., m, d) -> (...), in tenths of a carry (what carry_error fits)."""
        return self.carry_head(memory.mean(dim=-2)).squeeze(-1)

    @torch.no_grad()
    def carry_readout(self, memory: torch.Tensor) -> torch.Tensor | None:
        """What the carry probe reads from memory (..., m, d): the carry it sees held there, in
        carries, shape (...); None for a model trained without the probe."""
        head = self.carry_head
        if head is None:
            return None
        memory = memory.to(head.weight.device, head.weight.dtype)
        return CARRY_SCALE * self._carry_probe(memory).float().cpu()

    def carry_error(self, problem: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
        """Mean squared error of predicted carries (B, T) against each answer digit's carry out
        (tokens.carries, in tens so the targets are about 0-4), over the answer's digit steps."""
        target = torch.full(predicted.shape, float("nan"))
        for row, tokens in enumerate(problem.tolist()):
            out = tok.carries(*tok.problem_operands(tokens))[: predicted.shape[1]]
            target[row, : len(out)] = torch.tensor(out, dtype=torch.float32) / CARRY_SCALE
        target = target.to(predicted.device)
        valid = ~torch.isnan(target)
        return F.mse_loss(predicted.float()[valid], target[valid])

    @torch.no_grad()
    def rollout(self, memory: torch.Tensor, step_tokens: torch.Tensor, start: int = 0):
        """Greedy decoding from step `start` until every row has produced EOS (or max_steps).

        Yields (t, step_tokens, new_memory, logits, predicted) per step.
        """
        done = torch.zeros(step_tokens.shape[0], dtype=torch.bool, device=step_tokens.device)
        for t in range(start, self.config.max_steps):
            memory, logits = self.step(memory, *self.embed(step_tokens, t))
            predicted = logits.argmax(dim=-1)
            yield t, step_tokens, memory, logits, predicted
            done |= predicted == tok.EOS
            if bool(done.all()):
                return
            step_tokens = self.next_input(predicted)

    def check_operands(self, a, b) -> tuple[int, int]:
        """(a, b) as Python ints: any integer type is accepted (numpy's too, through
        operator.index); ValueError for anything else, a negative number or too many digits."""
        out = []
        for name, x in (("a", a), ("b", b)):
            if isinstance(x, bool):  # an int to Python, but never meant as an operand
                raise ValueError(f"operand {name} must be an integer, got {x!r}")
            try:
                x = operator.index(x)
            except TypeError:
                raise ValueError(f"operand {name} must be an integer, got {x!r}") from None
            if x < 0:
                raise ValueError(f"operand {name} must be non-negative, got {x}")
            if x >= 10 ** self.config.max_digits:  # not len(str(x)): str fails beyond 4300 digits
                shown = f"{name}={x} has {len(str(x))} digits" if x < 10 ** 100 else \
                    f"{name} has over 100 digits"
                raise ValueError(f"operand {shown}; this model supports at most "
                                 f"{self.config.max_digits}")
            out.append(x)
        return out[0], out[1]

    def problem_batch(self, pairs) -> torch.Tensor:
        """[(a, b), ...] -> (B, n) problem tokens, PAD-padded."""
        rows = []
        for a, b in pairs:
            self.check_operands(a, b)
            row = tok.problem_tokens(a, b, self.config.operand_width)
            rows.append(row + [tok.PAD] * (self.config.input_tokens - len(row)))
        return torch.tensor(rows, dtype=torch.long, device=self.device)

    @torch.no_grad()
    def generate(self, pairs) -> list[list[int]]:
        """Greedy answers (token lists, least significant digit first, up to and with EOS)."""
        problem = self.problem_batch(pairs)
        produced = [step[-1] for step in self.rollout(self.initial_memory(len(pairs)), problem)]
        out = torch.stack(produced, dim=1).tolist()
        return [row[: row.index(tok.EOS) + 1] if tok.EOS in row else row for row in out]

    def multiply_many(self, pairs) -> list[int | None]:
        """Greedy answers to [(a, b), ...], in one batch; [] for no pairs."""
        pairs = [self.check_operands(a, b) for a, b in pairs]
        if not pairs:
            return []
        with evaluating(self):
            return [tok.answer_to_number(ans) for ans in self.generate(pairs)]

    def multiply(self, a: int, b: int) -> int | None:
        """The model's greedy answer to a × b (None if it produced no digit)."""
        return self.multiply_many([(a, b)])[0]

    def trace(self, a: int, b: int):
        """Every step of one greedy run, as detached CPU tensors looked up by name."""
        from .trace import Trace
        return Trace.record(self, a, b)
