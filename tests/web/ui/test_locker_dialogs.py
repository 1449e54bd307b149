"""The locker's move and album dialogs in a real browser, shut and opened again at once: a
dialog's close event comes a moment after it shut, and the new opening must not take it for its
own (it did: the second move or add-to-album then did nothing)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.factories import make_user
from tests.servers import LiveServer
from tests.web.ui.browsing import log_in
from tests.web.ui.browsing import watch_console as watch
from tests.web.ui.locker_scenes import device, make_thumbnails, photo, put

# Presses ``button`` the moment ``dialog`` shuts: in the same task, before the dialog's close
# event is dispatched (a person cannot time that; a key pressed at once sometimes does).
PRESS_WHEN_SHUT = """(button, dialog) => {
  let closeEvents = 0;
  dialog.addEventListener("close", () => { closeEvents += 1; });
  return { pressed: new Promise((resolve) => {
    const shut = new MutationObserver(() => {
      if (dialog.open) return;
      shut.disconnect();
      const before = closeEvents;
      button.click();
      resolve({ closeEventsBefore: before, openAgain: dialog.open });
    });
    shut.observe(dialog, { attributes: true, attributeFilter: ["open"] });
    setTimeout(resolve, 10000, "the dialog did not shut");
  }) };
}"""


def _shut_and_open_again(dialog: Locator, button: Locator, shut: Callable[[], None]) -> None:
    """Shut ``dialog`` as a person does (``shut``), and press ``button`` again before the
    dialog's close event comes."""
    race = button.evaluate_handle(PRESS_WHEN_SHUT, dialog.element_handle())
    shut()
    seen: Any = race.evaluate("race => race.pressed")
    assert seen == {"closeEventsBefore": 0, "openAgain": True}, seen


def test_the_move_dialog_shut_with_escape_and_opened_again_at_once_moves(
    server: LiveServer, page: Page
) -> None:
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        notes = put(phone, b"packing list", "packing.txt", "Inbox")
        put(phone, b"map", "map.txt", "Trips")
        put(phone, b"zebra", "zebra.txt", "Zoo")
        log_in(page, server.url)
        page.goto(f"{server.url}/locker/files/Inbox")
        page.get_by_label("Select packing.txt").check()
        move = page.get_by_role("region", name="Selected files").get_by_role("button", name="Move")
        move.click()
        mover = page.get_by_role("dialog", name="Move 1 file")
        expect(mover.get_by_role("button", name="Move to “Inbox”")).to_be_visible()

        _shut_and_open_again(mover, move, lambda: page.keyboard.press("Escape"))
        mover.get_by_role("button", name="All files").click()
        mover.get_by_role("button", name="Trips").click()
        mover.get_by_role("button", name="Move to “Trips”").click()
        expect(page.locator("#toast")).to_contain_text("1 file moved to “Trips”")
        expect(mover).to_be_hidden()

        def names(folder: str) -> list[str]:
            found = phone.call("GET", "/api/v1/files", params={"folder": folder})["files"]
            return sorted(f["name"] for f in found)

        assert names("Trips") == ["map.txt", "packing.txt"]
        assert names("Inbox") == []
        assert phone.call("GET", f"/api/v1/files/{notes['id']}")["folder"] == "Trips"
        page.goto(f"{server.url}/locker/files/Trips")
        expect(page.locator("#listing li.item .row-name")).to_have_text(["map.txt", "packing.txt"])
    assert problems == []


def test_the_album_dialog_closed_and_opened_again_at_once_adds_to_the_album(
    server: LiveServer, page: Page
) -> None:
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        for day in (1, 2):
            put(phone, photo(datetime(2024, 7, day, 12), variant=day), f"lake-{day}.jpg", "Camera")
        lake = phone.call("POST", "/api/v1/albums", json={"name": "Lake weekend"})
        hills = phone.call("POST", "/api/v1/albums", json={"name": "Hills"})
        make_thumbnails(server.runtime)
        log_in(page, server.url)
        page.goto(f"{server.url}/locker/photos")
        page.get_by_label("Select lake-2.jpg").check()
        add = page.get_by_role("region", name="Selected files").get_by_role(
            "button", name="Add to album"
        )
        add.click()
        chooser = page.get_by_role("dialog", name="Add 1 item to an album")
        expect(chooser.get_by_role("button", name="Lake weekend")).to_be_visible()

        close = chooser.get_by_role("button", name="Close")
        _shut_and_open_again(chooser, add, close.click)
        chooser.get_by_role("button", name="Lake weekend").click()
        expect(page.locator("#toast")).to_contain_text("Added 1 item to “Lake weekend”")
        expect(chooser).to_be_hidden()

        def album(made: dict[str, Any]) -> list[str]:
            return [f["name"] for f in phone.call("GET", f"/api/v1/albums/{made['id']}")["files"]]

        assert album(lake) == ["lake-2.jpg"]
        assert album(hills) == []
        page.goto(f"{server.url}/locker/albums/{lake['id']}")
        expect(page.locator("#listing li.item")).to_have_count(1)
        expect(page.get_by_label("Select lake-2.jpg")).to_be_attached()
    assert problems == []
