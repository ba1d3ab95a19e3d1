"""Notebook 04 in a real browser: JupyterLab + headless Chromium, run all cells, move a slider.

What it proves that nbval cannot: the ipywidgets sliders render in JupyterLab, talk to the
kernel, and the live table follows the threshold slider.

The server gets a *copy* of the notebook (outputs and saved widget state stripped, so nothing
shown can come from the committed file) in a temporary root folder: JupyterLab's autosave
never touches the repository. Needs ``/usr/bin/chromium`` (Debian package ``chromium``; the
Makefile installs it) and Playwright for Python; skips with the reason where either is missing.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_thresholds_and_decisions.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage"]
SHARE = re.compile(r"Automated share:\s*([0-9.]+)%")
KERNEL_IDLE = re.compile(r"Python 3.*\|\s*Idle")  # the status bar once the notebook's kernel is up

SERVER_START_S = 90  # JupyterLab answers in a few seconds; generous for a busy 2-core machine
RUN_ALL_S = 180  # "Run All Cells" until the sliders and the live table are on screen
REACT_S = 30  # the kernel redraws the live table after a slider move


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(folder: Path) -> None:
    """User settings for this throw-away JupyterLab: no news pop-up, every cell kept in the DOM."""
    overrides = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                            "checkForUpdates": False},
        # windowed notebooks drop off-screen cells from the page; the test wants them all there
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    }
    for name, values in overrides.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


def _copy_without_outputs(src: Path, dst: Path) -> None:
    nb = json.loads(src.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nb.get("metadata", {}).pop("widgets", None)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the server (it shuts its kernels down), then kill what is left of its group."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    try:  # a kernel that outlived its server (same process group: start_new_session below)
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture(scope="module")
def lab(tmp_path_factory, request):
    """A JupyterLab server on 127.0.0.1 serving a copy of notebook 04; yields its base URL."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: install the Debian package `chromium` (make setup does)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not NOTEBOOK.exists():
        pytest.fail(f"{NOTEBOOK} is missing")

    work = tmp_path_factory.mktemp("lab")
    root = work / "root"
    _copy_without_outputs(NOTEBOOK, root / "notebooks" / NOTEBOOK.name)
    _settings(work / "settings")
    port = _free_port()
    env = dict(os.environ, CONFNB_PROGRESS="0", TOKENIZERS_PARALLELISM="false",
               JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"))
    log = work / "jupyterlab.log"
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        "--ServerApp.token=", "--IdentityProvider.token=", f"--ServerApp.root_dir={root}",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    request.addfinalizer(lambda: _stop(proc))
    base = f"http://127.0.0.1:{port}"
    _wait_until_up(f"{base}/api/status", proc, log, SERVER_START_S)
    return base


def _dismiss_popups(page) -> None:
    """Close JupyterLab's news / notification toasts if one covers the page."""
    for name in ("No", "Dismiss", "Close"):
        for button in page.locator(".jp-Notification-Toast button, .Toastify__toast button").get_by_text(
            name, exact=True
        ).all():
            try:
                button.click(timeout=1000)
            except Exception:  # gone already: nothing to close
                pass


def _automated_share(page) -> float | None:
    """The percentage in the live table's "Automated share: N%" line (None while it redraws)."""
    match = SHARE.search(page.locator(".confnb-live-table").inner_text())
    return float(match.group(1)) if match else None


def _accept_kernel_dialog(page) -> None:
    """If JupyterLab still asks which kernel to use, take the one it proposes (the notebook's)."""
    select = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
    try:
        select.wait_for(state="visible", timeout=2_000)
    except Exception:  # no dialog: the usual case
        return
    select.click()


def test_threshold_slider_moves_the_automated_share(lab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    started = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(30_000)
        try:
            page.goto(f"{lab}/lab/tree/notebooks/{NOTEBOOK.name}", timeout=60_000)
            page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=60_000)
            # Run All before the kernel is connected would open a "Select Kernel" dialog instead
            page.locator(".jp-StatusBar-TextItem").filter(has_text=KERNEL_IDLE).first.wait_for(timeout=90_000)
            _dismiss_popups(page)

            page.locator(".lm-MenuBar-item").get_by_text("Run", exact=True).click()
            page.locator(".lm-Menu-item").get_by_text("Run All Cells", exact=True).click()
            _accept_kernel_dialog(page)

            handle = page.locator(".confnb-threshold .noUi-handle")
            handle.wait_for(state="visible", timeout=RUN_ALL_S * 1000)
            table = page.locator(".confnb-live-table")
            expect(table).to_contain_text("Automated share:", timeout=RUN_ALL_S * 1000)
            _dismiss_popups(page)
            before = _automated_share(page)
            assert before is not None, "the live table shows no 'Automated share: N%' line"

            # Lower the threshold by five steps with the keyboard: more predictions clear it.
            handle.scroll_into_view_if_needed()
            handle.focus()
            for _ in range(5):
                handle.press("ArrowLeft")
            deadline = time.monotonic() + REACT_S
            after = before
            while time.monotonic() < deadline and after in (before, None):
                page.wait_for_timeout(250)
                after = _automated_share(page)
        except Exception as error:
            shot = tmp_path / "jupyterlab.png"
            try:
                page.screenshot(path=str(shot), full_page=True)
            except Exception:  # the page itself is gone: the original error says enough
                raise error
            raise AssertionError(f"{error}\n(screenshot of the page: {shot})") from error
        finally:
            browser.close()
    print(f"automated share {before:.1f}% -> {after:.1f}% ({time.monotonic() - started:.0f} s in the browser)")
    assert after is not None and after != before, (
        f"the automated share stayed at {before}% after moving the threshold slider")
    assert after > before, f"lowering the threshold should automate more, not {before}% -> {after}%"
