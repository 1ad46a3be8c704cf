"""The recurrent network, built in the notebook's order so that a seed reproduces it."""

from __future__ import annotations

import math
import threading

import torch
from torch import nn
from torch.func import functional_call

from .config import ModelConfig
from .results import Walkthrough, WalkthroughStep

#: Held while seeding and building a model, and by anything else that touches the
#: global generator, so two threads cannot interleave their random draws.
GLOBAL_RNG_LOCK = threading.RLock()


class CharRNN(nn.Module):
    """Optional embedding -> RNNCell loop | RNN | LSTM | GRU -> optional linear head.

    Modules are created in the notebook's order (embedding, recurrent layer,
    linear head), so ``torch.manual_seed(s)`` then ``CharRNN(...)`` draws the
    same initial weights as the notebook's programs. One-hot models run
    sequence-first (seqLen x batchSize x inputSize), embedding models batch-first
    (batchSize x seqLen), as the notebook does.
    """

    def __init__(self, cfg: ModelConfig, vocab_size: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.vocab_size = vocab_size
        self.hidden_size = cfg.effective_hidden(vocab_size)
        self.num_layers = 1 if cfg.cell == "rnncell" else cfg.num_layers
        self.onehot = cfg.encoding == "onehot"
        self.batch_first = not self.onehot
        self.is_lstm = cfg.cell == "lstm"
        self.num_classes = vocab_size
        input_size = cfg.input_size(vocab_size)
        if not self.onehot:
            self.emb = nn.Embedding(vocab_size, cfg.embedding_size)
        dropout = cfg.dropout if cfg.uses_dropout() else 0.0
        if cfg.cell == "rnncell":
            self.rnn = nn.RNNCell(input_size, self.hidden_size, nonlinearity=cfg.nonlinearity)
        elif cfg.cell == "rnn":
            self.rnn = nn.RNN(
                input_size,
                self.hidden_size,
                num_layers=self.num_layers,
                nonlinearity=cfg.nonlinearity,
                dropout=dropout,
                batch_first=self.batch_first,
            )
        else:
            cls = nn.LSTM if cfg.cell == "lstm" else nn.GRU
            self.rnn = cls(
                input_size,
                self.hidden_size,
                num_layers=self.num_layers,
                dropout=dropout,
                batch_first=self.batch_first,
            )
        self.fc = nn.Linear(self.hidden_size, vocab_size) if cfg.head == "linear" else None

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu"):
        """Zeros for the hidden state (and the LSTM's cell state)."""
        if self.cfg.cell == "rnncell":
            return torch.zeros(batch_size, self.hidden_size, device=device)
        h = torch.zeros(self.num_layers, batch_size, self.hidden_size, device=device)
        return (h, torch.zeros_like(h)) if self.is_lstm else h

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """What the recurrent layer reads: the one-hot input itself, or the embedding of indices."""
        return x if self.onehot else self.emb(x)

    def head(self, h: torch.Tensor) -> torch.Tensor:
        """Logits from hidden states: the linear layer, or the hidden state itself."""
        return h if self.fc is None else self.fc(h)

    def forward(self, x: torch.Tensor, state) -> torch.Tensor:
        """Logits flattened to (N, numClass), time-major for one-hot, batch-major for embedding."""
        x = self.embed(x)
        if self.cfg.cell == "rnncell":
            if self.batch_first:  # (B, T, E) -> step over T
                x = x.transpose(0, 1)
            h = state
            steps = []
            for x_t in x:
                h = self.rnn(x_t, h)
                steps.append(h)
            out = torch.stack(steps)  # (T, B, H): time-major, like the notebook's loop
        else:
            out, _ = self.rnn(x, state)
        return self.head(out).reshape(-1, self.num_classes)

    @property
    def time_major(self) -> bool:
        """Whether forward's rows run over time first (t * batch + b)."""
        return self.cfg.cell == "rnncell" or not self.batch_first

    def layer_states(self, batch_size: int, device: torch.device | str = "cpu") -> list:
        """Zero state per layer for ``step``: (B, H), or (h, c) pairs for an LSTM."""
        z = [torch.zeros(batch_size, self.hidden_size, device=device) for _ in range(self.num_layers)]
        return [(h, torch.zeros_like(h)) for h in z] if self.is_lstm else z

    def step(self, x_t: torch.Tensor, states: list) -> tuple[list[torch.Tensor], list]:
        """One time step, layer by layer: x_t is (B, inputSize) after embedding.

        Returns the hidden state of each layer (B, H) and the new per-layer
        states. Each hidden state is the very tensor the next layer, the next
        step and the head read, so autograd through it covers every path.
        Runs without dropout (inspection, not training).
        """
        hs, new = [], []
        inp = x_t
        for layer, (cell, names) in enumerate(self._cells()):
            if names is None:
                s = cell(inp, states[layer])
            else:
                params = {k: getattr(self.rnn, v) for k, v in names.items()}
                s = functional_call(cell, params, (inp, states[layer]))
            h = s[0] if self.is_lstm else s
            hs.append(h)
            new.append(s)
            inp = h
        return hs, new

    def _cells(self) -> list:
        """Per layer: a cell module and the names of this model's weights it should use."""
        cells = self.__dict__.get("_cell_cache")
        if cells is None:
            if self.cfg.cell == "rnncell":
                cells = [(self.rnn, None)]
            else:
                cells = []
                for layer in range(self.num_layers):
                    in_size = self.rnn.input_size if layer == 0 else self.hidden_size
                    with torch.device("meta"):
                        if self.cfg.cell == "rnn":
                            cell = nn.RNNCell(in_size, self.hidden_size, nonlinearity=self.cfg.nonlinearity)
                        elif self.cfg.cell == "lstm":
                            cell = nn.LSTMCell(in_size, self.hidden_size)
                        else:
                            cell = nn.GRUCell(in_size, self.hidden_size)
                    names = {k: f"{k}_l{layer}" for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
                    cells.append((cell, names))
            self.__dict__["_cell_cache"] = cells  # not a submodule: stays out of state_dict
        return cells


def build_model(cfg: ModelConfig, vocab_size: int) -> CharRNN:
    """A freshly initialised model; draws from the global generator as the notebook does."""
    return CharRNN(cfg, vocab_size)


def empty_model(cfg: ModelConfig, vocab_size: int, device: torch.device | str = "cpu") -> CharRNN:
    """A model with uninitialised weights, built without touching the global generator."""
    with torch.device("meta"):
        model = CharRNN(cfg, vocab_size)
    return model.to_empty(device=device)


def _private_init(module: nn.Module, hidden_size: int, generator: torch.Generator) -> nn.Module:
    """PyTorch's default RNN init, U(-1/sqrt(hidden), 1/sqrt(hidden)), drawn from a private generator."""
    module = module.to_empty(device="cpu")
    bound = 1.0 / math.sqrt(hidden_size)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-bound, bound, generator=generator)
    return module


@torch.no_grad()
def walkthrough(
    batch_size: int = 1, seq_len: int = 3, input_size: int = 4, hidden_size: int = 2, num_layers: int = 1, seed: int = 0
) -> Walkthrough:
    """Run the notebook's 'Use RNNCell' and 'Use RNN' cells for these sizes.

    Weights and inputs come from a private generator seeded with ``seed``, so a
    lesson run never disturbs the global generator a training run was seeded with.
    """
    for name, value in (
        ("batch_size", batch_size),
        ("seq_len", seq_len),
        ("input_size", input_size),
        ("hidden_size", hidden_size),
        ("num_layers", num_layers),
    ):
        if not 1 <= value <= 64:
            raise ValueError(f"{name} must be from 1 to 64, not {value}")
    g = torch.Generator().manual_seed(seed)
    with torch.device("meta"):
        cell = nn.RNNCell(input_size=input_size, hidden_size=hidden_size)
        rnn = nn.RNN(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
    cell = _private_init(cell, hidden_size, g)
    rnn = _private_init(rnn, hidden_size, g)

    dataset = torch.randn(seq_len, batch_size, input_size, generator=g)
    hidden = torch.zeros(batch_size, hidden_size)
    steps = []
    for idx, inp in enumerate(dataset):
        hidden = cell(inp, hidden)
        steps.append(WalkthroughStep(idx, tuple(inp.shape), tuple(hidden.shape), hidden.numpy().copy()))

    inputs = torch.randn(seq_len, batch_size, input_size, generator=g)
    h0 = torch.zeros(num_layers, batch_size, hidden_size)
    out, hn = rnn(inputs, h0)
    return Walkthrough(
        batch_size,
        seq_len,
        input_size,
        hidden_size,
        num_layers,
        seed,
        tuple(steps),
        tuple(inputs.shape),
        tuple(out.shape),
        tuple(hn.shape),
        out.numpy().copy(),
        hn.numpy().copy(),
    )
