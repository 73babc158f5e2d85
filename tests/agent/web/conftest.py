"""Fixtures of the web tests: a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright)."""
from __future__ import annotations

import shutil
from typing import Iterator

import pytest

from web_helpers import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def playwright() -> Iterator[object]:
    """Playwright (module-wide), skipping when it or Debian's chromium is missing."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def chromium(playwright) -> Iterator[object]:
    """A headless Chromium (module-wide)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
