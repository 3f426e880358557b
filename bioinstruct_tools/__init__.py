"""Tooling around the BioInstruct loading script: validation checks, the Hub layout export, publishing, CLI."""

__version__ = "1.0.0"
