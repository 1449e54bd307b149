"""The trash in a real browser: a deleted folder is one row; it comes back with its files (or
the page says why not), and is deleted forever after a confirmation, with the keyboard alone."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.factories import make_user
from tests.web.ui.browsing import log_in
from tests.web.ui.browsing import watch_console as watch
from tests.web.ui.locker_scenes import device, put


def _api(page: Page, server_url: str, path: str, **params: str) -> dict:
    return page.request.get(f"{server_url}/api/v1/{path}", params=params).json()


def test_a_deleted_folder_is_one_row_restored_or_deleted_forever(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        for name in ("one.jpg", "two.jpg", "three.jpg", "four.jpg"):
            put(
                phone,
                name.encode() * 100,
                name,
                "Holiday" if name != "four.jpg" else "Holiday/Day 2",
            )
        loose = put(phone, b"old notes", "notes.txt")
        phone.call("DELETE", f"/api/v1/files/{loose['id']}")
        log_in(page, server.url)
        page.goto(f"{server.url}/locker/files")
        page.get_by_role("button", name="Move the folder Holiday to the trash").click()
        toast = page.locator("#toast")
        expect(toast).to_contain_text("“Holiday” and everything in it moved to the trash")

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Trash").click()
        rows = page.locator("#listing li.item")
        expect(rows).to_have_count(2)  # the folder, and the file deleted on its own
        folder = rows.first
        expect(folder.locator(".row-name")).to_have_text("Holiday")
        expect(folder.locator(".row-meta")).to_contain_text("4 files · 3.1 kB · deleted")
        expect(rows.nth(1).locator(".row-name")).to_have_text("notes.txt")
        shot = shots / "trash-folder.png"
        page.screenshot(path=str(shot))

        # A live file has one of its names again: restoring says what to do, nothing changes.
        clash = put(phone, b"another one", "one.jpg", "Holiday")
        restore = folder.get_by_role("button", name="Restore the folder Holiday")
        restore.focus()
        page.keyboard.press("Enter")
        expect(toast).to_have_class("toast error")
        expect(toast).to_contain_text(
            "“Holiday” was not restored: there is a file named 'one.jpg' in 'Holiday' again;"
            " rename it first."
        )
        expect(rows).to_have_count(2)
        phone.call("PATCH", f"/api/v1/files/{clash['id']}", json={"name": "one again.jpg"})
        expect(restore).to_be_focused()

        page.keyboard.press("Enter")  # joins the live "Holiday"
        expect(toast).to_contain_text("“Holiday” is back, with 4 files.")
        expect(rows).to_have_count(1)
        expect(rows.first.get_by_role("button", name="Restore notes.txt")).to_be_focused()
        back = _api(page, server.url, "files", folder="Holiday")["files"]
        assert sorted(f["name"] for f in back) == [
            "one again.jpg",
            "one.jpg",
            "three.jpg",
            "two.jpg",
        ]
        assert [f["path"] for f in _api(page, server.url, "folders")["folders"]] == ["Holiday"]
        assert len(_api(page, server.url, "files", folder="Holiday/Day 2")["files"]) == 1

        page.goto(f"{server.url}/locker/files")
        page.get_by_role("button", name="Move the folder Holiday to the trash").click()
        expect(toast).to_contain_text("moved to the trash")
        page.goto(f"{server.url}/locker/trash")
        expect(rows).to_have_count(2)
        used = _api(page, server.url, "usage")["used_bytes"]

        forever = rows.first.get_by_role("button", name="Delete the folder Holiday forever")
        forever.click()
        confirm = page.get_by_role(
            "dialog", name="Delete the folder “Holiday” and 5 files in it forever?"
        )
        expect(confirm).to_contain_text("cannot be undone")
        confirm.get_by_role("button", name="Cancel").click()
        expect(rows).to_have_count(2)
        forever.focus()
        page.keyboard.press("Enter")
        confirm.get_by_role("button", name="Delete forever").click()
        expect(toast).to_contain_text("“Holiday” deleted for good.")
        expect(rows).to_have_count(1)
        expect(rows.first.locator(".row-name")).to_have_text("notes.txt")
        assert _api(page, server.url, "usage")["used_bytes"] == used - 3100 - len(b"another one")
        assert _api(page, server.url, "trash/folders")["folders"] == []

        rows.first.get_by_role("button", name="Delete notes.txt forever").click()
        page.get_by_role("dialog", name="Delete “notes.txt” forever?").get_by_role(
            "button", name="Delete forever"
        ).click()
        expect(page.get_by_role("heading", name="The trash is empty")).to_be_visible()
        assert _api(page, server.url, "usage")["used_bytes"] == 0
    expected = [p for p in problems if p.startswith("409 for fetch ")]
    assert len(expected) == 1 and problems == expected, problems


def test_a_deleted_folder_opens_to_its_files_and_is_restored_from_there(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        for name, folder in (("a.jpg", "Trip"), ("b.txt", "Trip"), ("c.txt", "Trip/Day 1")):
            put(phone, name.encode() * 50, name, folder)
        trip = next(
            f["id"] for f in phone.call("GET", "/api/v1/folders")["folders"] if f["path"] == "Trip"
        )
        phone.call("DELETE", f"/api/v1/folders/{trip}")
        log_in(page, server.url)
        page.goto(f"{server.url}/locker/trash")
        page.locator("#listing li.folder").get_by_role("link", name="Trip").click()

        expect(page).to_have_url(f"{server.url}/locker/trash/folders/{trip}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Trip")
        expect(page.locator(".trash-note")).to_contain_text("with 3 files")
        files = page.locator("#listing li.item:not(.folder)")
        expect(files.locator(".row-name")).to_have_text(["a.jpg", "b.txt", "c.txt"])
        expect(files.nth(2).locator(".row-meta")).to_contain_text("Trip/Day 1")
        page.screenshot(path=str(shots / "trash-folder-opened.png"))

        # One file comes back on its own, into its folder made anew; the page stays.
        files.nth(2).get_by_role("button", name="Restore c.txt").click()
        expect(page.locator("#toast")).to_contain_text("1 file restored to its folder.")
        expect(files.locator(".row-name")).to_have_text(["a.jpg", "b.txt"])
        expect(page.locator("#listing li.folder .row-meta")).to_contain_text("2 files")
        assert [
            f["name"] for f in _api(page, server.url, "files", folder="Trip/Day 1")["files"]
        ] == ["c.txt"]
        # Picking files works here as in the trash.
        files.nth(0).locator("input.pick").check()
        expect(page.locator("#selcount")).to_have_text("1 selected")
        page.locator("#selbar").get_by_role("button", name="Restore").click()
        expect(files.locator(".row-name")).to_have_text(["b.txt"])
        expect(page).to_have_url(f"{server.url}/locker/trash/folders/{trip}")

        page.get_by_role("button", name="Restore the folder Trip").click()  # joins them
        expect(page).to_have_url(f"{server.url}/locker/trash")
        expect(page.get_by_role("heading", name="The trash is empty")).to_be_visible()
        assert len(_api(page, server.url, "files", folder="Trip")["files"]) == 2
        assert [f["path"] for f in _api(page, server.url, "folders")["folders"]] == ["Trip"]

        page.goto(f"{server.url}/locker/trash/folders/{trip}")  # restored: not in the trash
        expect(page.get_by_role("heading", name="This folder is not in the trash")).to_be_visible()
    assert [p for p in problems if not p.startswith("404 ")] == [], problems
