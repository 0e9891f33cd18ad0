"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Never downloads a browser: it launches /usr/bin/chromium (Debian's, which `make test` installs). When
it is missing the tests fail with a clear message under CI=true, and are skipped otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the main thread; the ORM calls the tests make to build
# their world would otherwise be refused as "called from an async context".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("HANDOFF_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: their live server needs a transactional database, which is emptied
    after each test, and the tests that follow would lose the exercise library the migrations loaded."""
    here = Path(__file__).resolve().parent
    browser = [item for item in items if here in Path(str(item.path)).resolve().parents]
    others = [item for item in items if item not in browser]
    items[:] = others + browser


@pytest.fixture(autouse=True)
def exercise_library(transactional_db: Any) -> None:
    """The library the data migration loads, back in place after an earlier transactional test's flush."""
    from referrals.library.data import EXERCISES
    from referrals.library.models import Exercise

    if not Exercise.objects.exists():
        Exercise.objects.bulk_create(Exercise(**entry) for entry in EXERCISES)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (browser tests need it)."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """A fresh browser context (own cookies: one person) per call, on the live server."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(base_url=live_server.url, viewport=viewport or DESKTOP)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[..., None]:
    """Photographs the page, then runs axe-core over it (tests/browser/axe.py): each screen a browser test
    stops to show has no serious or critical accessibility violation. `axe=False` for a page the project
    does not write (Swagger UI)."""
    from tests.browser import axe as axe_core

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, *, axe: bool = True) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        if axe:
            axe_core.assert_accessible(page, f"{name} ({page.url})")

    return take
