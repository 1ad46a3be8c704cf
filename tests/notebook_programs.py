"""The notebook's three 'hello' -> 'ohlol' programs, transcribed for any strings.

Each function follows its notebook cell line by line; the only changes are that
the vocabulary and sizes come from the strings given (the notebook's values for
hello/ohlol), ``torch.manual_seed(seed)`` is called just before the model is
built, and results are returned instead of printed. The tests compare RNN
Studio's trainer with these, number for number.
"""

from __future__ import annotations

import torch


def _data(text: str, target: str):
    idx2char = sorted(set(text) | set(target))  # hello/ohlol -> ['e', 'h', 'l', 'o']
    x_data = [idx2char.index(c) for c in text]
    y_data = [idx2char.index(c) for c in target]
    return idx2char, x_data, y_data


def rnncell_onehot(text: str, target: str, seed: int, epochs: int = 15, lr: float = 0.1):
    """Example 1, 'Use RNNCell': per-step loop, hidden state as logits, losses summed."""
    idx2char, x_data, y_data = _data(text, target)
    input_size = len(idx2char)
    hidden_size = len(idx2char)
    batch_size = 1
    one_hot_lookup = [[1 if i == j else 0 for j in range(input_size)] for i in range(input_size)]
    x_one_hot = [one_hot_lookup[x] for x in x_data]
    inputs = torch.Tensor(x_one_hot).view(-1, batch_size, input_size)
    labels = torch.LongTensor(y_data).view(-1, 1)

    class Model(torch.nn.Module):
        def __init__(self, input_size, hidden_size, batch_size):
            super(Model, self).__init__()
            self.batch_size = batch_size
            self.input_size = input_size
            self.hidden_size = hidden_size
            self.rnncell = torch.nn.RNNCell(input_size=self.input_size, hidden_size=self.hidden_size)

        def forward(self, input, hidden):
            hidden = self.rnncell(input, hidden)
            return hidden

        def init_hidden(self):
            return torch.zeros(self.batch_size, self.hidden_size)

    torch.manual_seed(seed)
    net = Model(input_size, hidden_size, batch_size)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    out = []
    for epoch in range(epochs):
        loss = 0
        optimizer.zero_grad()
        hidden = net.init_hidden()
        predicted = ""
        for input, label in zip(inputs, labels):
            hidden = net(input, hidden)
            loss += criterion(hidden, label)
            _, idx = hidden.max(dim=1)
            predicted += idx2char[idx.item()]
        loss.backward()
        optimizer.step()
        out.append((loss.item(), predicted))
    return out


def rnn_onehot(text: str, target: str, seed: int, epochs: int = 25, lr: float = 0.05):
    """Example 1, 'Use RNN': nn.RNN over one-hot input, output as logits, mean loss."""
    idx2char, x_data, y_data = _data(text, target)
    input_size = len(idx2char)
    hidden_size = len(idx2char)
    num_layers = 1
    batch_size = 1
    seq_len = len(x_data)
    one_hot_lookup = [[1 if i == j else 0 for j in range(input_size)] for i in range(input_size)]
    x_one_hot = [one_hot_lookup[x] for x in x_data]
    inputs = torch.Tensor(x_one_hot).view(seq_len, batch_size, input_size)
    labels = torch.LongTensor(y_data)

    class Model(torch.nn.Module):
        def __init__(self, input_size, hidden_size, batch_size, num_layers=1):
            super(Model, self).__init__()
            self.num_layers = num_layers
            self.batch_size = batch_size
            self.input_size = input_size
            self.hidden_size = hidden_size
            self.rnn = torch.nn.RNN(
                input_size=self.input_size, hidden_size=self.hidden_size, num_layers=self.num_layers
            )

        def forward(self, input):
            hidden = torch.zeros(self.num_layers, self.batch_size, self.hidden_size)
            out, _ = self.rnn(input, hidden)
            return out.view(-1, self.hidden_size)

    torch.manual_seed(seed)
    net = Model(input_size, hidden_size, batch_size, num_layers)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    out = []
    for epoch in range(epochs):
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        _, idx = outputs.max(dim=1)
        idx = idx.data.numpy()
        out.append((loss.item(), "".join([idx2char[x] for x in idx])))
    return out


def rnn_embedding(text: str, target: str, seed: int, epochs: int = 15, lr: float = 0.05):
    """Example 1 with an embedding: Embedding -> 2-layer RNN (batch first) -> Linear."""
    idx2char, x_data, y_data = _data(text, target)
    num_class = len(idx2char)
    input_size = len(idx2char)
    hidden_size = 8
    embedding_size = 10
    num_layers = 2
    inputs = torch.LongTensor([x_data])
    labels = torch.LongTensor(y_data)

    class Model(torch.nn.Module):
        def __init__(self):
            super(Model, self).__init__()
            self.emb = torch.nn.Embedding(input_size, embedding_size)
            self.rnn = torch.nn.RNN(
                input_size=embedding_size, hidden_size=hidden_size, num_layers=num_layers, batch_first=True
            )
            self.fc = torch.nn.Linear(hidden_size, num_class)

        def forward(self, x):
            hidden = torch.zeros(num_layers, x.size(0), hidden_size)
            x = self.emb(x)
            x, _ = self.rnn(x, hidden)
            x = self.fc(x)
            return x.view(-1, num_class)

    torch.manual_seed(seed)
    net = Model()
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    out = []
    for epoch in range(epochs):
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        _, idx = outputs.max(dim=1)
        idx = idx.data.numpy()
        out.append((loss.item(), "".join([idx2char[x] for x in idx])))
    return out


PROGRAMS = {
    "rnncell-onehot": rnncell_onehot,
    "rnn-onehot": rnn_onehot,
    "rnn-embedding": rnn_embedding,
}
