"""The accounts app's models (Django looks for them here)."""

from .legacy import LegacyAccount

__all__ = ["LegacyAccount"]
