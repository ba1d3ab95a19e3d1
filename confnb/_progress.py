"""When to draw a progress bar: the one rule shared by scoring, score files and fine-tuning."""

from __future__ import annotations

import os
import sys


def want_progress(progress: bool | None) -> bool:
    """`progress` if given; else only in a terminal or a notebook, unless ``CONFNB_PROGRESS=0``.

    >>> want_progress(False)
    False
    """
    if progress is not None:
        return bool(progress)
    if os.environ.get("CONFNB_PROGRESS", "").lower() in ("0", "false", "no"):
        return False
    return sys.stderr.isatty() or "ipykernel" in sys.modules
