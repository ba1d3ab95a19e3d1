"""The package version, read from the installed metadata (pyproject.toml's ``version`` is the one source)."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("confnb")
except metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
