"""Renaming in a real browser: a file from its panel (in the viewer and on its own page), with
the name before the extension selected, names refused in the dialog or by the server; and a
folder from its row."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.factories import make_user
from tests.web.ui.browsing import log_in
from tests.web.ui.browsing import watch_console as watch
from tests.web.ui.locker_scenes import device, put


def _names(page: Page, server_url: str, folder: str) -> list[str]:
    """The folder's file names, as the API lists them to the logged-in browser."""
    found = page.request.get(f"{server_url}/api/v1/files", params={"folder": folder}).json()
    return sorted(f["name"] for f in found["files"])


def _selection(page: Page) -> list[int]:
    return page.locator("#ask-input").evaluate("i => [i.selectionStart, i.selectionEnd]")


def test_a_file_is_renamed_from_its_panel_and_a_taken_name_shows_why(server, page: Page):
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        put(phone, b"agenda", "notes.txt", "Work")
        put(phone, b"budget", "plans.txt", "Work")
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/files/Work")
    rows = page.locator("#listing li.item .row-name")
    expect(rows).to_have_text(["notes.txt", "plans.txt"])

    rows.filter(has_text="notes.txt").click()
    viewer = page.get_by_role("dialog", name="File")
    viewer.get_by_role("button", name="Rename").click()
    ask = page.get_by_role("dialog", name="Rename “notes.txt”")
    field = ask.get_by_label("New name")
    expect(field).to_be_focused()
    expect(field).to_have_value("notes.txt")
    assert _selection(page) == [0, len("notes")]  # the extension stays as it is

    field.press("Control+a")
    field.press("Delete")
    field.press("Enter")
    expect(ask.get_by_role("alert")).to_have_text("Type a name.")
    field.fill("minutes/2024.txt")
    ask.get_by_role("button", name="Rename").click()
    expect(ask.get_by_role("alert")).to_have_text("A name cannot contain “/”.")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill("plans.txt")
    field.press("Enter")
    expect(ask.get_by_role("alert")).to_have_text(
        "There is already a file named 'plans.txt' there."
    )
    expect(ask).to_be_visible()
    assert _names(page, server.url, "Work") == ["notes.txt", "plans.txt"]

    field.fill("minutes.txt")
    expect(ask.get_by_role("alert")).to_be_hidden()
    field.press("Enter")
    expect(ask).to_be_hidden()
    expect(page.locator("#toast")).to_contain_text("Renamed to “minutes.txt”")
    expect(viewer.locator(".panel-name")).to_have_text("minutes.txt")
    expect(viewer.get_by_role("button", name="Rename")).to_be_focused()
    expect(rows).to_have_text(["minutes.txt", "plans.txt"])
    page.keyboard.press("Escape")

    page.reload()
    expect(rows).to_have_text(["minutes.txt", "plans.txt"])
    assert _names(page, server.url, "Work") == ["minutes.txt", "plans.txt"]
    expected = [p for p in problems if p.startswith("409 for fetch ")]
    assert len(expected) == 1 and problems == expected, problems


def test_a_file_is_renamed_on_its_own_page(server, page: Page):
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        made = put(phone, b"%PDF", "lease.2024.pdf")
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/f/{made['id']}")
    page.get_by_role("button", name="Rename").click()
    ask = page.get_by_role("dialog", name="Rename “lease.2024.pdf”")
    assert _selection(page) == [0, len("lease.2024")]
    page.keyboard.type("flat lease")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="flat lease.pdf", level=1)).to_be_visible()
    expect(ask).to_be_hidden()
    page.reload()
    expect(page.get_by_role("heading", name="flat lease.pdf", level=1)).to_be_visible()
    expect(page.locator(".panel-name")).to_have_text("flat lease.pdf")
    assert _names(page, server.url, "") == ["flat lease.pdf"]
    assert problems == []


def test_a_folder_is_renamed_from_its_row(server, page: Page):
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        put(phone, b"map", "map.txt", "Trips/Alps")
        put(phone, b"lion", "lion.txt", "Zoo")
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/files")
    rows = page.locator("#listing li .row-name")
    expect(rows).to_have_text(["Trips", "Zoo"])

    page.get_by_role("button", name="Rename the folder Trips").click()
    ask = page.get_by_role("dialog", name="Rename the folder “Trips”")
    field = ask.get_by_label("New name")
    expect(field).to_be_focused()
    field.fill("Zoo")
    field.press("Enter")
    expect(ask.get_by_role("alert")).to_have_text("There is already a folder 'Zoo'.")
    field.fill("Travel")
    field.press("Enter")
    expect(ask).to_be_hidden()
    expect(page.locator("#toast")).to_contain_text("The folder is called “Travel” now")
    expect(rows).to_have_text(["Travel", "Zoo"])
    expect(rows.first).to_be_focused()

    page.reload()
    expect(rows).to_have_text(["Travel", "Zoo"])
    assert _names(page, server.url, "Travel/Alps") == ["map.txt"]
    expected = [p for p in problems if p.startswith("409 for fetch ")]
    assert len(expected) == 1 and problems == expected, problems
