"""sharebench: measure what parameter sharing buys a neural network."""

__version__ = "0.1.0"
