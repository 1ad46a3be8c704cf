"""Facts about a configuration that the UI shows without torch: parameters, shapes, chance loss."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .config import LARGE_MODEL_PARAMETERS, ModelConfig

_GATES = {"rnncell": 1, "rnn": 1, "lstm": 4, "gru": 3}


def count_parameters(cfg: ModelConfig, vocab_size: int) -> int:
    """Trainable parameters of the model this configuration builds for |V| = vocab_size."""
    hidden = cfg.effective_hidden(vocab_size)
    gates = _GATES[cfg.cell]
    layers = 1 if cfg.cell == "rnncell" else cfg.num_layers
    total = vocab_size * cfg.embedding_size if cfg.encoding == "embedding" else 0
    in_size = cfg.input_size(vocab_size)
    for layer in range(layers):
        size_in = in_size if layer == 0 else hidden
        total += gates * hidden * (size_in + hidden + 2)  # W_ih, W_hh, b_ih, b_hh
    if cfg.head == "linear":
        total += hidden * vocab_size + vocab_size
    return total


def training_memory_bytes(parameters: int) -> int:
    """Roughly what training holds for this many float32 parameters: weights, gradients and two
    optimiser states (Adam's), 16 bytes each; activations and snapshots come on top."""
    return 16 * parameters


def large_model_warning(cfg: ModelConfig, vocab_size: int) -> str | None:
    """A warning for a model so large that training is slow and takes gigabytes, or None."""
    n = count_parameters(cfg, vocab_size)
    if n <= LARGE_MODEL_PARAMETERS:
        return None
    gb = training_memory_bytes(n) / 1e9
    return f"this model has {n:,} parameters: training will be slow and use ~{gb:.1f} GB"


def chance_steps(n_targets: int, n_pairs: int, reduction: str) -> float:
    """How many steps' losses the loss adds up: 1 for "mean", the target length per pair for "sum"."""
    return n_targets / max(n_pairs, 1) if reduction == "sum" else 1


def chance_loss(vocab_size: int, n_targets: int, n_pairs: int, reduction: str) -> float:
    """The loss of a model that guesses uniformly: ln|V| per step, summed over steps for "sum"."""
    per_step = math.log(vocab_size) if vocab_size > 0 else 0.0
    return per_step * chance_steps(n_targets, n_pairs, reduction)


@dataclass(frozen=True)
class TensorShape:
    """One tensor on the data's path: its name, dims as (notebook name, value), and a note."""

    name: str
    dims: tuple[tuple[str, int], ...]
    note: str = ""

    @property
    def shape(self) -> tuple[int, ...]:
        """The sizes alone, as torch would print them."""
        return tuple(v for _, v in self.dims)

    def symbolic(self) -> str:
        """The notebook's names: 'seqLen × batchSize × inputSize' ('scalar' for a 0-d tensor)."""
        return " × ".join(n for n, _ in self.dims) or "scalar"

    def numeric(self) -> str:
        """The current sizes: '5 × 1 × 4'."""
        return " × ".join(str(v) for _, v in self.dims) or "()"


def tensor_path(cfg: ModelConfig, vocab_size: int, batch_size: int, seq_len: int) -> list[TensorShape]:
    """Every tensor from the input indices to the loss, with the shapes this configuration gives.

    The layout follows the notebook: one-hot models run sequence-first, embedding
    models batch-first; an RNNCell loop reads one step (batchSize x inputSize) at a time.
    """
    V, B, T = vocab_size, batch_size, seq_len
    H = cfg.effective_hidden(V)
    L = 1 if cfg.cell == "rnncell" else cfg.num_layers
    E = cfg.embedding_size
    onehot = cfg.encoding == "onehot"
    in_name, in_size = ("inputSize", V) if onehot else ("embeddingSize", E)
    path: list[TensorShape] = []
    if onehot:
        path.append(TensorShape("inputs (one-hot)", (("seqLen", T), ("batchSize", B), ("inputSize", V)), "float"))
    else:
        path.append(TensorShape("inputs (indices)", (("batchSize", B), ("seqLen", T)), "LongTensor"))
        path.append(
            TensorShape(
                "embedding output", (("batchSize", B), ("seqLen", T), ("embeddingSize", E)), f"lookup {V} × {E}"
            )
        )
    seq_dims = (("seqLen", T), ("batchSize", B)) if onehot else (("batchSize", B), ("seqLen", T))
    if cfg.cell == "rnncell":
        path.append(TensorShape("RNNCell input (one step)", (("batchSize", B), (in_name, in_size)), f"× {T} steps"))
        path.append(TensorShape("hidden (one step)", (("batchSize", B), ("hiddenSize", H)), "carried to the next step"))
        path.append(TensorShape("hidden, all steps", (("seqLen", T), ("batchSize", B), ("hiddenSize", H)), "stacked"))
        out_dims = (("seqLen", T), ("batchSize", B))
    else:
        kind = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[cfg.cell]
        for layer in range(L):
            size_name, size = (in_name, in_size) if layer == 0 else ("hiddenSize", H)
            path.append(TensorShape(f"{kind} layer {layer + 1} input", (*seq_dims, (size_name, size))))
            path.append(TensorShape(f"{kind} layer {layer + 1} output", (*seq_dims, ("hiddenSize", H))))
        hidden_dims = (("numLayers", L), ("batchSize", B), ("hiddenSize", H))
        path.append(TensorShape("hidden h₀ / hₙ", hidden_dims, "zeros in, last step out"))
        if cfg.cell == "lstm":
            path.append(TensorShape("cell state c₀ / cₙ", hidden_dims))
        out_dims = seq_dims
    if cfg.head == "linear":
        path.append(TensorShape("linear output", (*out_dims, ("numClass", V)), f"Linear({H}, {V})"))
    else:
        path.append(
            TensorShape("logits = hidden state", (*out_dims, ("numClass", V)), "head none: hiddenSize = numClass")
        )
    flat = "seqLen·batchSize" if cfg.cell == "rnncell" or onehot else "batchSize·seqLen"
    path.append(TensorShape("logits (flattened)", ((flat, T * B), ("numClass", V)), "view(-1, numClass)"))
    path.append(TensorShape("labels", ((flat, T * B),), "LongTensor"))
    path.append(TensorShape("loss", (), "CrossEntropyLoss"))
    return path
