"""sgi: the smart-governance indicator crawler (command line, settings and registries)."""

__version__ = "0.1.0"
