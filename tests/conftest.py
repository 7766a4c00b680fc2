"""Test settings shared by every test module.

Hypothesis runs derandomized by default, so CI sees the same examples on every run (a failure is
reproducible, never flaky). ``HYPOTHESIS_PROFILE=explore`` draws fresh random examples, ten times
as many, to hunt for new failures.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("default", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


#: Debian's chromium, which `make test` installs when it is missing (.ci/install-chromium)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: flags for a closed network: no background connections, no sandbox as root
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless chromium for every page test, driven by Playwright."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install -y chromium (make test does)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
