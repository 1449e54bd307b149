"""Strongroom: self-hosted backup and sync for what people keep on their phones."""

__version__ = "0.1.0"
