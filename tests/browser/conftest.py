"""Headless Chromium for the browser tests, driven through chromedriver (Selenium).

`chromium` and `chromium-driver` are Debian packages: the session fixture installs them with
`scripts/ensure-chromium` (apt-get) when missing, and skips only when this machine cannot
install them (no apt-get, no root): CI has both, so the test runs there.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CANNOT_INSTALL = 3  # scripts/ensure-chromium: no apt-get or no root
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1280,1100",
]


@pytest.fixture(scope="session")
def chromium_paths() -> tuple[str, str]:
    """(chromium, chromedriver), installed with apt-get when missing."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        done = subprocess.run(
            [str(ROOT / "scripts" / "ensure-chromium")],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode == CANNOT_INSTALL:
            pytest.skip(f"headless Chromium cannot be installed here: {done.stderr.strip()}")
        assert done.returncode == 0, done.stderr[-3000:]
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium is not None
    assert driver is not None
    return chromium, driver


@pytest.fixture
def browser(
    chromium_paths: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium (its own profile directory), quit at teardown."""
    monkeypatch.setenv("SE_AVOID_STATS", "true")  # Selenium Manager must not phone home
    chromium, driver_path = chromium_paths
    with tempfile.TemporaryDirectory(prefix="bridge-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in [*FLAGS, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
        driver.set_page_load_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (`tests/artifacts/`, ignored by git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
