"""Qt-free core of RNN Studio: data, configuration, training and files."""
