"""Small helpers for the course notebooks: one setup call and where figures are written.

Notebooks stay thin: they call `setup()` once (prints the environment, applies the house chart
style and quiet, comparable output settings) and save figures with `figure_path()`, which points
at the repository's ``images/`` folder when the notebook runs inside the repository and at a local
``images/`` folder elsewhere (Colab).

Out of scope: anything a notebook teaches. Course logic lives in the package's modules.
"""

from __future__ import annotations

import os
import platform
import warnings
from pathlib import Path

__all__ = ["COLAB_BRANCH", "COLAB_REPO", "device", "figure_path", "gpu_model", "in_colab", "setup"]

#: Where the course lives on GitHub, ``owner/name``: the one setting behind every notebook's Colab badge
#: and the install part of its setup cell. A fork sets its own here and runs ``make notebooks-nav``
#: (``python tools/navigation.py``), which rewrites badges and setup cells (sources only, not outputs).
COLAB_REPO = "confnb/confnb"
#: The branch the badges open and the setup cell installs from.
COLAB_BRANCH = "main"


def in_colab() -> bool:
    """True inside Google Colab."""
    import sys

    return "google.colab" in sys.modules


def device() -> str:
    """``"cuda"`` when a GPU is visible, else ``"cpu"`` (the way the course picks a device)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _repo_root() -> Path | None:
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "confnb").is_dir() and (folder / "notebooks").is_dir():
            return folder
    return None


def figure_path(topic: str, name: str) -> Path:
    """Path for a course figure: ``<repo>/images/<topic>/<name>`` (created if needed).

    >>> figure_path("calibration", "x.png").name
    'x.png'
    """
    root = _repo_root()
    folder = (root / "images" if root else Path("images")) / topic
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def setup(*, quiet: bool = True) -> str:
    """Prepare a notebook: chart style, display options, quiet warnings. Returns the device.

    Prints one line naming confnb's version, the Python and torch versions and the device, so a
    reader can compare an executed notebook with their own run.
    """
    import matplotlib
    import pandas as pd
    import torch

    from ._version import __version__
    from .plots import STYLE
    from .tasks import MultiTokenVariantWarning

    pd.set_option("display.precision", 3)
    pd.set_option("display.width", 120)
    pd.set_option("display.max_colwidth", 70)
    rc = dict(STYLE["rc"])
    rc.update({"figure.dpi": STYLE["dpi"], "savefig.dpi": STYLE["savefig_dpi"], "figure.figsize": STYLE["figsize"]})
    matplotlib.rcParams.update(rc)
    if quiet:
        # Shown and explained where it matters (notebook 02); elsewhere it would only add noise.
        warnings.filterwarnings("ignore", category=MultiTokenVariantWarning)
        warnings.filterwarnings("ignore", message=".*gemm_4bit_forward.*")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    torch.set_num_threads(max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))
    dev = device()
    print(f"confnb {__version__} | Python {platform.python_version()} | torch {torch.__version__.split('+')[0]} | device: {dev}")
    return dev


def gpu_model(name: str, **options):
    """The notebooks' optional big-model cells: ``confnb.load_model(name, **options)`` on a CUDA GPU.

    Returns None without a GPU (the cell then says what it would show), and None with the reason
    printed when the hub refuses: no network, or a gated model (Llama) without a token -- never a
    traceback in the middle of a course.

    >>> gpu_model("meta-llama/Llama-3.1-8B-Instruct", quantization="4bit") is None   # on a CPU machine
    True
    """
    import torch

    from .models import load_model

    if not torch.cuda.is_available():
        return None
    try:
        return load_model(name, **options)
    except OSError as exc:  # HubAccessError: no network, or a gated model without a token
        print(f"Skipped: {exc}")
        return None
