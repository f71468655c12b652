"""photoguard's version: in the state of the output folders it writes, and checked against a
cluster's workers."""

__version__ = "0.3.2"
