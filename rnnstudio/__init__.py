"""RNN Studio: build, train and watch small recurrent networks on character sequences."""

__version__ = "0.1.0"
