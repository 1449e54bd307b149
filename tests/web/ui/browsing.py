"""Steps the browser tests share: signing up and in, watching the console, reading pictures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import ConsoleMessage, Locator, Page, Response, expect

from tests.factories import PASSWORD


def watch_console(page: Page) -> list[str]:
    """Collects the page's script errors, console errors (a CSP refusal is one) and failed
    loads of anything but the page itself (whose status the test checks)."""
    problems: list[str] = []

    def console(m: ConsoleMessage) -> None:
        if m.type == "error" and not m.text.startswith("Failed to load resource"):
            problems.append(f"console {m.type}: {m.text}")

    def response(r: Response) -> None:
        if r.status >= 400 and r.request.resource_type != "document":
            problems.append(f"{r.status} for {r.request.resource_type} {r.url}")

    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", console)
    page.on("response", response)
    return problems


def sign_up(page: Page, base: str, user: str) -> None:
    page.goto(base + "/signup")
    page.get_by_label("User ID").fill(user)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name=f"Hello, {user}")).to_be_visible()


def log_in(page: Page, base: str, user: str = "alice") -> None:
    page.goto(base + "/login")
    page.get_by_label("User ID").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=f"Hello, {user}")).to_be_visible()


def natural_width(picture: Locator) -> int:
    """The decoded width of an ``<img>`` once loaded (0 when it failed to load)."""
    expect(picture).to_be_visible()
    picture.evaluate(
        "img => img.complete ? null : new Promise(r => { img.onload = img.onerror = r; })"
    )
    return int(picture.evaluate("img => img.naturalWidth"))


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def shot(page: Page, folder: Path, name: str, *, full: bool = False) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=full)
    return path


def pick_files(page: Page, files: Any, button: Locator | None = None) -> None:
    """Choose ``files`` through the page's Upload button and the browser's file picker.

    Waits for the page to finish loading first: the button opens the picker through the
    page's script, which a fast click can beat on a busy machine."""
    page.wait_for_load_state()
    with page.expect_file_chooser() as chooser:
        (button or page.get_by_role("button", name="Upload").first).click()
    chooser.value.set_files(files)
