"""The locker's files in a real browser: dropping files on a folder, the folder browser and
moving, selecting several to download as a zip, the trash, versions, a full account, and
another account's addresses."""

from __future__ import annotations

import base64
import re
import zipfile
from datetime import datetime

from playwright.sync_api import Locator, Page, Route, expect

from strongroom.accounts import service
from tests.factories import make_user
from tests.web.ui.browsing import log_in, natural_width, pick_files, shot
from tests.web.ui.browsing import watch_console as watch
from tests.web.ui.locker_scenes import device, make_thumbnails, pdf, photo, put, until

DROP = """([files]) => {
  const transfer = new DataTransfer();
  for (const [name, type, b64] of files) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type: type, lastModified: 1714730000000 }));
  }
  return transfer;
}"""


def _zip_from(page: Page, button: Locator) -> tuple[str, dict[str, bytes]]:
    """Click ``button``; the name of the zip it downloads, and each member's bytes."""
    with page.expect_download() as download:
        button.click()
    with zipfile.ZipFile(download.value.path()) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    return download.value.suggested_filename, members


def _files(page: Page, server_url: str, folder: str) -> dict[str, dict]:
    """The folder's files, as the API lists them to the logged-in browser."""
    found = page.request.get(f"{server_url}/api/v1/files", params={"folder": folder}).json()
    return {f["name"]: f for f in found["files"]}


def test_files_dropped_on_a_folder_page_upload_into_that_folder(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        put(phone, b"packing list", "packing.txt", "Trips/Alps")
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/files/Trips/Alps")
    expect(page.get_by_role("navigation", name="Folder").locator("li")).to_have_text(
        ["All files", "Trips", "Alps"]
    )
    jpeg = photo(datetime(2024, 2, 10, 9, 15))
    transfer = page.evaluate_handle(
        DROP,
        [
            [
                ["summit.jpg", "image/jpeg", base64.b64encode(jpeg).decode()],
                ["route.pdf", "application/pdf", base64.b64encode(pdf("Route")).decode()],
            ]
        ],
    )
    page.dispatch_event("#locker", "dragenter", {"dataTransfer": transfer})
    overlay = page.locator("#drop-overlay")
    expect(overlay).to_be_visible()
    expect(overlay).to_contain_text("Drop files to upload them to “Trips/Alps”")
    shot(page, shots, "1-dragging-over-the-page")
    page.dispatch_event("#locker", "drop", {"dataTransfer": transfer})
    expect(overlay).to_be_hidden()
    expect(page.get_by_role("region", name="Uploads")).to_contain_text("2 uploaded", timeout=20_000)
    expect(page.locator("#listing li.item .row-name")).to_have_text(
        ["packing.txt", "route.pdf", "summit.jpg"]
    )
    shot(page, shots, "2-dropped-files-in-the-folder")
    stored = _files(page, server.url, "Trips/Alps")
    assert sorted(stored) == ["packing.txt", "route.pdf", "summit.jpg"]
    assert stored["summit.jpg"]["size"] == len(jpeg)
    assert stored["summit.jpg"]["modified_at"] == 1714730000000
    assert problems == []


def test_folders_come_first_and_files_move_through_the_folder_picker(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        put(phone, b"a", "aardvark.txt")
        put(phone, b"zebra", "zebra.txt", "Zoo")
    log_in(page, server.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="All files").click()
    page.get_by_role("button", name="New folder").click()
    ask = page.get_by_role("dialog", name="New folder")
    ask.get_by_label("Name").fill("Trips")
    ask.get_by_role("button", name="Create").click()
    expect(page.locator("#toast")).to_contain_text("Folder “Trips” made")
    names = page.locator("#listing li .row-name")
    expect(names).to_have_text(["Trips", "Zoo", "aardvark.txt"])  # folders first, then files

    page.get_by_label("Select aardvark.txt").check()
    page.get_by_role("region", name="Selected files").get_by_role("button", name="Move").click()
    mover = page.get_by_role("dialog", name="Move 1 file")
    mover.get_by_role("button", name="Trips").click()
    mover.get_by_label("New folder name").fill("2024")
    mover.get_by_role("button", name="Create").click()
    expect(mover.get_by_role("navigation", name="Folder to move to").locator("li")).to_have_text(
        ["All files", "Trips", "2024"]
    )
    shot(page, shots, "1-move-dialog")
    mover.get_by_role("button", name="Move to “Trips/2024”").click()
    expect(page.locator("#toast")).to_contain_text("1 file moved to “Trips/2024”")
    expect(names).to_have_text(["Trips", "Zoo"])
    assert list(_files(page, server.url, "Trips/2024")) == ["aardvark.txt"]

    page.get_by_role("link", name="Trips", exact=True).click()
    page.get_by_role("link", name="2024", exact=True).click()
    crumbs = page.get_by_role("navigation", name="Folder")
    expect(crumbs.locator("li")).to_have_text(["All files", "Trips", "2024"])
    expect(names).to_have_text(["aardvark.txt"])
    crumbs.get_by_role("link", name="Trips").click()
    expect(page.get_by_role("heading", name="Trips", level=1)).to_be_visible()
    assert problems == []


def test_several_selected_files_download_as_one_zip(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    contents = {"one.txt": b"first", "two.txt": b"second", "three.pdf": pdf("Three")}
    with device(server.url) as phone:
        for name, data in contents.items():
            put(phone, data, name, "Papers")
        put(phone, b"left out", "four.txt", "Papers")
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/files/Papers")
    for name in contents:
        page.get_by_label(f"Select {name}").check()
    selection = page.get_by_role("region", name="Selected files")
    expect(selection).to_contain_text("3 selected")
    shot(page, shots, "1-three-selected")
    name, members = _zip_from(page, selection.get_by_role("button", name="Download"))
    assert name == "Files.zip"
    assert sorted(members) == sorted(contents)
    assert members == contents

    page.goto(f"{server.url}/locker/files")
    _, whole = _zip_from(
        page, page.get_by_role("button", name="Download the folder Papers as a zip")
    )
    assert sorted(whole) == sorted([*contents, "four.txt"])
    assert problems == []


def test_folders_are_picked_with_files_to_download_move_and_delete(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        put(phone, b"beach", "beach.txt", "Trip")
        put(phone, b"day two", "day2.txt", "Trip/Day 2")
        put(phone, b"report", "report.txt", "Work")
        put(phone, b"notes", "notes.txt")
        put(phone, b"stays", "stays.txt")
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/files")
    names = page.locator("#listing li .row-name")
    expect(names).to_have_text(["Trip", "Work", "notes.txt", "stays.txt"])

    page.get_by_label("Select the folder Trip").check()
    selection = page.get_by_role("region", name="Selected files")
    expect(selection).to_contain_text("1 selected")
    page.get_by_role("link", name="Work", exact=True).click()  # while picking, a name picks
    expect(page).to_have_url(f"{server.url}/locker/files")
    expect(page.get_by_label("Select the folder Work")).to_be_checked()
    page.get_by_label("Select notes.txt").check()
    expect(selection).to_contain_text("3 selected")
    shot(page, shots, "1-folders-picked")
    name, members = _zip_from(page, selection.get_by_role("button", name="Download"))
    assert name == "Files.zip"
    assert members == {
        "Trip/beach.txt": b"beach",
        "Trip/Day 2/day2.txt": b"day two",
        "Work/report.txt": b"report",
        "notes.txt": b"notes",
    }

    page.get_by_label("Select notes.txt").uncheck()
    page.get_by_label("Select the folder Trip").uncheck()
    selection.get_by_role("button", name="Move").click()
    mover = page.get_by_role("dialog", name="Move 1 folder")
    mover.get_by_role("button", name="Trip").click()
    mover.get_by_role("button", name="Move to “Trip”").click()
    expect(page.locator("#toast")).to_contain_text("1 folder moved to “Trip”")
    expect(names).to_have_text(["Trip", "notes.txt", "stays.txt"])
    assert list(_files(page, server.url, "Trip/Work")) == ["report.txt"]

    page.get_by_label("Select the folder Trip").check()
    page.get_by_label("Select notes.txt").check()
    selection.get_by_role("button", name="Delete").click()
    toast = page.locator("#toast")
    expect(toast).to_contain_text("1 file and 1 folder moved to the trash.")
    expect(names).to_have_text(["stays.txt"])
    trash = page.request.get(f"{server.url}/api/v1/trash/folders").json()["folders"]
    assert [f["path"] for f in trash] == ["Trip"]
    toast.get_by_role("button", name="Undo").click()
    expect(names).to_have_text(["Trip", "notes.txt", "stays.txt"])
    assert list(_files(page, server.url, "Trip/Work")) == ["report.txt"]
    assert page.request.get(f"{server.url}/api/v1/trash/folders").json()["folders"] == []
    assert problems == []


def test_deleted_files_wait_in_the_trash_until_restored_or_emptied(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        for name in ("a.txt", "b.txt", "c.txt"):
            put(phone, name.encode(), name, "Notes")
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/files/Notes")
    names = page.locator("#listing li.item .row-name")
    page.get_by_label("Select a.txt").check()
    page.get_by_label("Select b.txt").check()
    page.get_by_role("region", name="Selected files").get_by_role("button", name="Delete").click()
    expect(names).to_have_text(["c.txt"])
    toast = page.locator("#toast")
    expect(toast).to_contain_text("2 files moved to the trash")
    toast.get_by_role("button", name="Undo").click()
    expect(names).to_have_text(["a.txt", "b.txt", "c.txt"])
    assert sorted(_files(page, server.url, "Notes")) == ["a.txt", "b.txt", "c.txt"]

    page.get_by_label("Select a.txt").check()
    page.get_by_label("Select b.txt").check()
    page.get_by_role("region", name="Selected files").get_by_role("button", name="Delete").click()
    expect(names).to_have_text(["c.txt"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Trash").click()
    rows = page.locator("#listing li.item")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Notes")
    shot(page, shots, "1-trash")
    rows.filter(has_text="a.txt").get_by_role("button", name="Restore").click()
    expect(toast).to_contain_text("1 file restored")
    expect(rows).to_have_count(1)
    assert sorted(_files(page, server.url, "Notes")) == ["a.txt", "c.txt"]

    page.get_by_role("button", name="Empty trash").click()
    confirm = page.get_by_role("dialog", name="Empty the trash?")
    expect(confirm).to_contain_text("cannot be undone")
    confirm.get_by_role("button", name="Empty trash").click()
    expect(page.get_by_role("heading", name="The trash is empty")).to_be_visible()
    trashed = page.request.get(f"{server.url}/api/v1/files", params={"trashed": "true"}).json()
    assert trashed["files"] == []
    shot(page, shots, "2-empty-trash")
    assert problems == []


def test_an_older_version_is_restored_from_the_details(server, page: Page, shots):
    problems = watch(page)
    make_user(server.runtime)
    with device(server.url) as phone:
        first = put(phone, b"draft one", "essay.txt")
        server.runtime.clock.advance(seconds=3600)
        put(phone, b"draft two, longer", "essay.txt")
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/f/{first['id']}")
    versions = page.locator(".version-list li")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("current")
    shot(page, shots, "1-versions")
    versions.nth(1).get_by_role("button", name=re.compile("^Restore")).click()
    expect(versions).to_have_count(3)
    content = page.request.get(f"{server.url}/api/v1/files/{first['id']}/content").body()
    assert content == b"draft one"
    assert problems == []


def test_an_upload_that_will_not_fit_is_refused_with_a_clear_message(
    server, page: Page, shots, tmp_path
):
    problems = watch(page)
    make_user(server.runtime)
    with server.runtime.db.write() as s:
        service.set_quota(s, "alice", 60_000)
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 70_000)
    log_in(page, server.url)
    page.goto(f"{server.url}/locker/files")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    pick_files(page, big)
    alert = page.get_by_role("region", name="Uploads").get_by_role("alert")
    expect(alert).to_contain_text("Not enough space: this file needs 70.0 kB, and 60.0 kB")
    expect(alert).to_contain_text("empty the trash")
    assert not any("/api/v1/uploads" in url for url in posts)  # refused before a byte was sent
    shot(page, shots, "1-will-not-fit")

    # Space that goes between the check and the upload: the server refuses with 413.
    small = tmp_path / "small.bin"
    small.write_bytes(b"y" * 40_000)

    def fill_up_first(route: Route) -> None:
        with device(server.url) as phone:
            put(phone, b"z" * 30_000, "filler.bin")
        route.continue_()

    page.route(re.compile(r".*/api/v1/uploads$"), fill_up_first)
    pick_files(page, small)
    item = page.locator(".upload", has_text="small.bin")
    expect(item).to_contain_text("Not uploaded: it needs 40.0 kB and 30.0 kB is free.")
    expect(alert).to_contain_text("Your storage is full")
    assert "small.bin" not in _files(page, server.url, "")
    assert [p for p in problems if not p.startswith("413 ")] == []


def test_another_account_cannot_open_the_first_ones_files_albums_or_folders(server, page: Page):
    make_user(server.runtime)
    make_user(server.runtime, "bob")
    with device(server.url) as phone:
        secret = put(phone, photo(datetime(2024, 1, 1)), "secret-plan.jpg", "Private stuff")
        album = phone.call("POST", "/api/v1/albums", json={"name": "Hidden album"})
        phone.call("POST", f"/api/v1/albums/{album['id']}/items", json={"file_ids": [secret["id"]]})
    make_thumbnails(server.runtime)
    log_in(page, server.url, "bob")
    for path in (
        f"/locker/f/{secret['id']}",
        f"/locker/f/{secret['id']}?partial=1",
        f"/locker/albums/{album['id']}",
        "/locker/files/Private%20stuff",
    ):
        response = page.goto(server.url + path)
        assert response is not None and response.status == 404, path
        html = page.content()
        assert "secret-plan" not in html and "Hidden album" not in html, path
    for path in ("content", "thumbnail", "versions"):
        answer = page.request.get(f"{server.url}/api/v1/files/{secret['id']}/{path}")
        assert answer.status == 404, path
    page.goto(f"{server.url}/locker/photos")
    tiles = page.request.get(f"{server.url}/locker/tiles?ids={secret['id']}")
    assert tiles.ok and "secret-plan" not in tiles.text()
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    stolen = page.request.post(
        f"{server.url}/locker/zip", form={"csrf_token": csrf or "", "id": secret["id"]}
    )
    assert stolen.status == 404 and b"secret" not in stolen.body()
    expect(page.get_by_role("heading", name="No photos yet")).to_be_visible()


def test_music_plays_and_videos_show_posters_and_play(server, page: Page, shots, tmp_path):
    import shutil
    import subprocess

    from tests.conftest import missing

    if shutil.which("ffmpeg") is None:
        missing("ffmpeg is not installed (apt-get install -y ffmpeg)")
    from tests.web.ui.locker_scenes import song

    problems = watch(page)
    make_user(server.runtime)
    clip = tmp_path / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
         "testsrc=duration=3:size=320x240:rate=25", "-c:v", "libx264", "-pix_fmt", "yuv420p",
         "-preset", "veryfast", str(clip)],
        check=True,
    )  # fmt: skip
    with device(server.url) as phone:
        put(phone, song(2.0), "tone.wav", "Music")
        put(phone, clip.read_bytes(), "clip.mp4", "Videos")
    make_thumbnails(server.runtime)
    log_in(page, server.url)

    page.goto(f"{server.url}/locker/music")
    page.get_by_role("button", name="Play tone.wav").click()
    player = page.locator("#player")
    expect(player).to_contain_text("tone.wav")
    until(page, "() => document.getElementById('player-audio').currentTime > 0.2")
    shot(page, shots, "1-music-playing")

    page.goto(f"{server.url}/locker/videos")
    poster = page.locator("#listing li.item img")
    assert natural_width(poster) > 0
    expect(page.locator("#listing .duration")).to_have_text("0:03")
    page.get_by_role("link", name="clip.mp4").click()
    video = page.get_by_role("dialog", name="File").locator("video")
    expect(video).to_have_attribute("poster", re.compile("thumbnail"))
    video.evaluate("v => v.play()")
    until(page, "() => document.querySelector('#viewer video').currentTime > 0.2")
    shot(page, shots, "2-video-in-the-viewer")
    assert problems == []
