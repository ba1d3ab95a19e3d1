"""Known, harmless notices from dependencies, silenced at their source.

bitsandbytes (>= 0.49) logs a warning through :mod:`logging` when it is imported on a CPU with
AVX512-BF16 and the optional ``kernels`` package is absent ("Failed to load CPU gemm_4bit_forward
from kernels-community ..."). It is not a Python warning, so ``warnings.filterwarnings`` cannot
catch it, and Python's last-resort handler prints it to stderr, where it ends up inside executed
notebooks. bitsandbytes then uses its own CPU kernel, which is what confnb tests against; nothing is
lost. A filter on that one logger drops that one message and lets every other record through.

Where ``kernels`` is installed and the hub is offline (``HF_HUB_OFFLINE=1``, as in the tests), the
same import makes ``kernels`` log "Skipping publisher trust check for 'kernels-community/...' because
Hugging Face Hub is in offline mode." for bitsandbytes' own kernel repository; dropped the same way.

Out of scope: any other dependency's output (progress bars and transformers' logs are handled in
:mod:`confnb.models`).
"""

from __future__ import annotations

import logging

#: (logger name, fragment of the one message dropped from it)
_KNOWN_NOTICES = (
    ("bitsandbytes.backends.cpu.ops", "gemm_4bit_forward"),
    ("kernels._internals.hf_hub", "publisher trust check for 'kernels-community/"),
)


class _DropMessage(logging.Filter):
    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


def silence_known_notices() -> None:
    """Install the filters (idempotent). Works before or after bitsandbytes is imported."""
    for name, fragment in _KNOWN_NOTICES:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropMessage) for f in logger.filters):
            logger.addFilter(_DropMessage(fragment))
