"""The accounts app's admin pages (Django loads this module)."""

from . import legacy_admin  # noqa: F401
