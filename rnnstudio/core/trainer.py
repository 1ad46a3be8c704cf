"""The trainer: an iterator of EpochResult that reproduces the notebook's programs.

With seed s it calls ``torch.manual_seed(s)`` and builds the modules in the
notebook's order, so its losses and predictions equal the notebook's programs
for any strings. Each epoch does the notebook's work: one forward pass that
gives both the loss and the predictions, one backward pass, one optimiser step.
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .config import NO_CUDA, ModelConfig, TrainConfig, check
from .control import RunControl
from .model import GLOBAL_RNG_LOCK, CharRNN, build_model, empty_model
from .problems import Problem, ValidationError, plural
from .results import DIVERGED, FINISHED, STOPPED, EpochResult, Inference, RunOutcome, WeightSnapshot
from .sequences import Task, unknown_char_problems
from .vocab import Vocabulary

IGNORE = -100  # CrossEntropyLoss's default ignore_index: padding never counts
#: Distinct predicted strings a run keeps one object each for, before it starts afresh.
MAX_SEEN_PREDICTIONS = 2**16


def resolve_device(name: str) -> torch.device:
    """'auto' takes CUDA when present; 'cuda' without CUDA is an error that says so."""
    if name == "auto":
        return torch.device("cuda" if cuda_available() else "cpu")
    if name == "cuda" and not cuda_available():
        raise ValidationError([Problem("device", NO_CUDA)])
    return torch.device(name)


def cuda_available() -> bool:
    """Whether torch can train on CUDA here."""
    return torch.cuda.is_available()


@dataclass
class EncodedBatch:
    """Every pair as one padded batch, laid out the way the model's logits are."""

    x: torch.Tensor  # (T, B, |V|) one-hot floats, or (B, T) indices
    labels: torch.Tensor  # (N,) in the logits' row order, IGNORE at padding
    label_list: list[int]
    positions: list[list[int]]  # per pair, the logits rows of its steps
    batch_size: int
    n_targets: int


def encode_batch(task: Task, vocab: Vocabulary, model: CharRNN, device: torch.device) -> EncodedBatch:
    """Indices or one-hot inputs for all pairs, right-padded; padding is kept out of the loss."""
    xs = [vocab.encode(p.input) for p in task.pairs]
    ys = [vocab.encode(p.target) for p in task.pairs]
    b, t = len(xs), max(len(x) for x in xs)
    if model.onehot:
        x = torch.zeros(t, b, len(vocab))
        for j, seq in enumerate(xs):
            for i, c in enumerate(seq):
                x[i, j, c] = 1.0
    else:
        x = torch.zeros(b, t, dtype=torch.long)
        for j, seq in enumerate(xs):
            x[j, : len(seq)] = torch.tensor(seq, dtype=torch.long)
    grid = [[IGNORE] * t for _ in range(b)]
    for j, seq in enumerate(ys):
        grid[j][: len(seq)] = seq
    if model.time_major:
        label_list = [grid[j][i] for i in range(t) for j in range(b)]
        positions = [[i * b + j for i in range(len(ys[j]))] for j in range(b)]
    else:
        label_list = [grid[j][i] for j in range(b) for i in range(t)]
        positions = [[j * t + i for i in range(len(ys[j]))] for j in range(b)]
    return EncodedBatch(
        x=x.to(device),
        labels=torch.tensor(label_list, dtype=torch.long, device=device),
        label_list=label_list,
        positions=positions,
        batch_size=b,
        n_targets=sum(len(y) for y in ys),
    )


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The configured optimiser with its learning rate (and momentum where it has one).

    ``foreach=True`` gives the same bits as PyTorch's CPU default (the per-tensor
    loop the notebook gets) with less Python per step; the fused kernels would
    be faster still but drift from the notebook's numbers after a few steps.
    """
    params = list(params)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, foreach=True)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, foreach=True)
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, momentum=cfg.momentum, foreach=True)
    return torch.optim.Adagrad(params, lr=cfg.lr, foreach=True)


def batch_loss(logits: torch.Tensor, labels: torch.Tensor, reduction: str, batch_size: int) -> torch.Tensor:
    """Cross-entropy over the real (unpadded) steps.

    "mean": averaged over every target character, the notebook's CrossEntropyLoss.
    "sum": summed over time steps and averaged over pairs, the notebook's RNNCell
    loop (which adds one step's loss after another).
    """
    if reduction == "mean":
        return F.cross_entropy(logits, labels)
    loss = F.cross_entropy(logits, labels, reduction="sum")
    return loss if batch_size == 1 else loss / batch_size


@torch.no_grad()
def infer(model: CharRNN, vocab: Vocabulary, text: str, target: str | None = None) -> Inference:
    """Run ``model`` (in eval mode) on one string; ValidationError names unknown characters."""
    problems = unknown_char_problems(text, vocab)
    if target is not None:
        problems += unknown_char_problems(target, vocab, "target")
        if len(target) != len(text):
            problems.append(Problem("target", f"has {plural(len(target), 'character')}, the input {len(text)}"))
    if not text:
        problems.append(Problem("input", "is empty"))
    if problems:
        raise ValidationError(problems)
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        idx = vocab.encode(text)
        ids = torch.tensor(idx, dtype=torch.long, device=device)
        if model.onehot:
            x = F.one_hot(ids, len(vocab)).float()  # (T, V)
            seq = x.unsqueeze(1)  # (T, 1, V)
        else:
            x = model.emb(ids)  # (T, E)
            seq = ids.unsqueeze(0)  # (1, T)
        logits = model(seq, model.initial_state(1, device))  # the training forward, batch of one
        probs = torch.softmax(logits, dim=1)
        states = model.layer_states(1, device)
        hidden = []
        for x_t in x:
            hs, states = model.step(x_t.unsqueeze(0), states)
            hidden.append(torch.cat(hs))  # (L, H)
        hidden_np = torch.stack(hidden, dim=1).cpu().numpy()  # (L, T, H)
        losses = None
        if target is not None:
            t_ids = torch.tensor(vocab.encode(target), dtype=torch.long, device=device)
            losses = F.cross_entropy(logits, t_ids, reduction="none").cpu().numpy()
        pred = logits.argmax(1).tolist()
        return Inference(
            text=text,
            indices=tuple(idx),
            inputs=x.cpu().numpy(),
            hidden=hidden_np,
            probabilities=probs.cpu().numpy(),
            predicted=vocab.decode(pred),
            target=target,
            step_losses=losses,
        )
    finally:
        model.train(was_training)


def gradient_flow(model: CharRNN, batch: EncodedBatch, reduction: str) -> np.ndarray:
    """Norm of d(loss)/d(hidden state) at every layer and time step: (numLayers, seqLen).

    The network is unrolled step by step with the same weights and loss as
    training (dropout off), and each step's hidden state is a graph node, so the
    gradient includes every path through later steps. Parameter gradients are
    left untouched.
    """
    was_training = model.training
    model.eval()
    try:
        x = model.embed(batch.x)
        if not model.time_major or (model.cfg.cell == "rnncell" and model.batch_first):
            x = x.transpose(0, 1)  # -> (T, B, I)
        states = model.layer_states(batch.batch_size, x.device)
        hs, logits = [], []
        for x_t in x:
            h, states = model.step(x_t, states)
            hs.extend(h)
            logits.append(model.head(h[-1]))
        out = torch.stack(logits)  # (T, B, C)
        if not model.time_major:
            out = out.transpose(0, 1)
        loss = batch_loss(out.reshape(-1, model.num_classes), batch.labels, reduction, batch.batch_size)
        grads = torch.autograd.grad(loss, hs)  # step-major: step t, layer l at t * L + l
        norms = torch.stack([g.norm() for g in grads]).reshape(x.shape[0], model.num_layers)
        return norms.T.cpu().numpy()
    finally:
        model.train(was_training)


def finished_message(start: int, end: int) -> str:
    """How a run from epoch ``start`` to ``end`` ended: "finished 15 epochs", or for a run that
    continued trained weights "finished 10 more epochs (25 in all)"."""
    if start == 0:
        return f"finished {plural(end, 'epoch')}"
    return f"finished {plural(end - start, 'more epoch')} ({end:,} in all)"


class Trainer:
    """Trains one model on one task; ``epochs()`` yields an EpochResult per epoch.

    Calling ``epochs()`` again after a run has ended continues from the current
    weights and optimiser state, numbering epochs on. ``outcome`` says how the
    last run ended (finished, stopped, diverged) once its iterator is exhausted.
    """

    def __init__(self, task: Task, model_cfg: ModelConfig, train_cfg: TrainConfig) -> None:
        task.validated()
        self.task = task
        self.vocab = task.vocabulary()
        check(model_cfg, train_cfg, len(self.vocab))
        self.model_cfg = model_cfg
        self.train_cfg = train_cfg
        self.device = resolve_device(train_cfg.device)
        self.threads = train_cfg.resolved_threads()
        torch.set_num_threads(self.threads)
        with GLOBAL_RNG_LOCK:
            torch.manual_seed(train_cfg.seed)
            self.model = build_model(model_cfg, len(self.vocab)).to(self.device)
        self.optimizer = make_optimizer(self.model.parameters(), train_cfg)
        self.batch = encode_batch(task, self.vocab, self.model, self.device)
        self._state0 = self.model.initial_state(self.batch.batch_size, self.device)
        self.epoch = 0
        self.elapsed = 0.0
        self.outcome: RunOutcome | None = None

    def epochs(self, control: RunControl | None = None, count: int | None = None) -> Iterator[EpochResult]:
        """Train ``count`` more epochs (the configuration's number by default)."""
        torch.set_num_threads(self.threads)  # per thread: the caller's thread trains
        self.outcome = None
        model, opt, batch = self.model, self.optimizer, self.batch
        x, state0, labels = batch.x, self._state0, batch.labels
        label_list, positions = batch.label_list, batch.positions
        chars = self.vocab.chars
        reduction, bsize = self.train_cfg.loss_reduction, batch.batch_size
        clip = self.train_cfg.clip_grad_norm
        params = list(model.parameters())
        n_targets = batch.n_targets
        eq = operator.eq
        last: tuple[str, ...] = ()  # the previous epoch's predictions
        seen: dict[str, str] = {}  # each predicted string, once
        start = self.epoch
        end = self.epoch + (self.train_cfg.epochs if count is None else count)
        mark = time.perf_counter()
        while self.epoch < end:
            if control is not None:
                paused = control.paused_seconds
                go = control.checkpoint()
                mark += control.paused_seconds - paused  # a pause is not training time; a frame's hold is
                if not go:
                    self.elapsed += time.perf_counter() - mark
                    self.outcome = RunOutcome(STOPPED, self.epoch, f"stopped after epoch {self.epoch}")
                    return
            for p in params:  # what zero_grad() does, without its per-call bookkeeping
                p.grad = None
            logits = model(x, state0)
            loss = batch_loss(logits, labels, reduction, bsize)
            loss.backward()
            value = loss.item()
            n = self.epoch + 1
            if not math.isfinite(value):
                self.outcome = RunOutcome(
                    DIVERGED, self.epoch, f"diverged at epoch {n}, loss {value}: try a lower learning rate"
                )
                return
            grad_norm, clipped = None, False
            if clip > 0:
                grad_norm = float(torch.nn.utils.clip_grad_norm_(params, clip))
                if not math.isfinite(grad_norm):  # clipping by an infinite norm would freeze the weights
                    self.outcome = RunOutcome(
                        DIVERGED,
                        self.epoch,
                        f"diverged at epoch {n}, gradient norm {grad_norm}: try a lower learning rate",
                    )
                    return
                clipped = grad_norm > clip
            opt.step()
            pred = logits.argmax(1).tolist()
            correct = sum(map(eq, pred, label_list))
            predictions = tuple("".join([chars[pred[i]] for i in pos]) for pos in positions)
            # Every epoch is kept, and a task predicts the same strings epoch after epoch: one object
            # stands for each string seen (and the previous epoch's tuple for an unchanged epoch).
            if predictions == last:
                predictions = last
            else:
                if len(seen) > MAX_SEEN_PREDICTIONS:
                    seen.clear()
                predictions = last = tuple([seen.setdefault(p, p) for p in predictions])
            self.epoch = n
            yield EpochResult(
                epoch=n,
                loss=value,
                accuracy=correct / n_targets,
                predictions=predictions,
                elapsed=self.elapsed + time.perf_counter() - mark,
                grad_norm=grad_norm,
                clipped=clipped,
            )
        self.elapsed += time.perf_counter() - mark
        self.outcome = RunOutcome(FINISHED, self.epoch, finished_message(start, self.epoch))

    def snapshot(self) -> WeightSnapshot:
        """A copy of the current weights as numpy arrays."""
        return WeightSnapshot(
            self.epoch, {k: v.detach().cpu().numpy().copy() for k, v in self.model.state_dict().items()}
        )

    def snapshot_nbytes(self) -> int:
        """The size of one snapshot's weights, without taking it."""
        return sum(t.numel() * t.element_size() for t in self.model.state_dict().values())

    def probe(self) -> WeightSnapshot:
        """The current weights with the batch's hidden-state gradient norms at them."""
        snap = self.snapshot()
        return WeightSnapshot(snap.epoch, snap.weights, self.gradient_flow())

    def infer(self, text: str, target: str | None = None) -> Inference:
        """The current model on one string: prediction, probabilities and hidden states."""
        return infer(self.model, self.vocab, text, target)

    def gradient_flow(self) -> np.ndarray:
        """Hidden-state gradient norms (numLayers x seqLen) for the whole batch at the current weights."""
        return gradient_flow(self.model, self.batch, self.train_cfg.loss_reduction)

    def load_weights(self, weights: Mapping[str, np.ndarray]) -> None:
        """Replace the weights (keeps the optimiser's state); ValueError names a mismatch."""
        load_weights(self.model, weights)


def load_weights(model: CharRNN, weights: Mapping[str, np.ndarray]) -> None:
    """Copy numpy arrays into ``model``; ValueError if names or shapes differ from the model's."""
    own = model.state_dict()
    missing = sorted(set(own) - set(weights))
    extra = sorted(set(weights) - set(own))
    if missing or extra:
        raise ValueError(
            "the weights do not fit this model"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unexpected {', '.join(extra)}" if extra else "")
        )
    for name, tensor in own.items():
        arr = np.asarray(weights[name])
        if tuple(arr.shape) != tuple(tensor.shape):
            raise ValueError(
                f"the weights do not fit this model: {name} is {tuple(arr.shape)}, the model has {tuple(tensor.shape)}"
            )
    with torch.no_grad():
        for name, tensor in own.items():
            tensor.copy_(torch.as_tensor(np.asarray(weights[name], dtype=np.float32)))


def model_from_snapshot(model_cfg: ModelConfig, vocab: Vocabulary, snapshot: WeightSnapshot) -> CharRNN:
    """A model holding a snapshot's weights, built without touching the global generator."""
    model = empty_model(model_cfg, len(vocab))
    load_weights(model, snapshot.weights)
    return model


class SnapshotRunner:
    """Inference with snapshots' weights, reusing one model per configuration (for one thread).

    Building a model costs several times an inference of these small networks;
    a new snapshot only has its weights copied in.
    """

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._model: CharRNN | None = None
        self._loaded: WeightSnapshot | None = None

    def infer(
        self, model_cfg: ModelConfig, vocab: Vocabulary, snapshot: WeightSnapshot, text: str, target: str | None = None
    ) -> Inference:
        """Like infer_snapshot, with the model kept between calls."""
        key = (model_cfg, len(vocab))
        if key != self._key or self._model is None:
            self._model, self._key = model_from_snapshot(model_cfg, vocab, snapshot), key
        elif self._loaded is not snapshot:
            load_weights(self._model, snapshot.weights)
        self._loaded = snapshot
        return infer(self._model, vocab, text, target)


def infer_snapshot(
    model_cfg: ModelConfig, vocab: Vocabulary, snapshot: WeightSnapshot, text: str, target: str | None = None
) -> Inference:
    """Inference with a snapshot's weights (leaves the global generator alone)."""
    return SnapshotRunner().infer(model_cfg, vocab, snapshot, text, target)


def parameter_count(model_cfg: ModelConfig, vocab_size: int) -> int:
    """Trainable parameters of the configured model for a vocabulary of this size."""
    with torch.device("meta"):
        model = CharRNN(model_cfg, vocab_size)
    return sum(p.numel() for p in model.parameters())


def use_threads(n: int) -> None:
    """Set torch's thread count for the calling thread (the setting is per thread)."""
    torch.set_num_threads(n)


def warm_up() -> None:
    """Pay torch's one-time costs now (the import, and the optimiser's first-use imports, ~2 s).

    Touches no random generator, so a later seeded run is unaffected.
    """
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([param], lr=0.1, foreach=True)
    param.sum().backward()
    optimizer.step()
