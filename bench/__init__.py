"""scalebench: compare ways of scaling a convolutional network at equal FLOP budgets."""

__version__ = "0.1.0"
