"""doorstep: a local same-day / two-day delivery network."""

__version__ = "0.1.0"
