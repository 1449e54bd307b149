"""Screenshots of the locker at desktop and phone widths, as in the README.

They go to the test's output folder; with ``STRONGROOM_SCREENSHOTS=docs/screenshots`` they are
also written there (as ``test_screenshots.py`` does for the other pages).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.factories import make_user
from tests.web.ui.browsing import log_in, natural_width, no_sideways_scroll, shot
from tests.web.ui.browsing import watch_console as watch
from tests.web.ui.locker_scenes import (
    device,
    make_thumbnails,
    pdf,
    photo,
    put,
    save_for_docs,
    song,
)

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SKIES = [(80, 160, 230), (230, 150, 90), (120, 200, 140), (200, 120, 170), (90, 120, 200)]


def _scene(server_url: str) -> dict[str, str]:
    """A locker with a summer and a spring of photos, some papers, music and an album."""
    made: dict[str, str] = {}
    with device(server_url) as phone:
        shots = [(2024, 7, d) for d in (28, 21, 14, 9, 3)] + [(2024, 6, d) for d in (30, 18, 2)]
        shots += [(2024, 4, d) for d in (22, 11, 5, 1)]
        for i, (year, month, day) in enumerate(shots):
            taken = datetime(year, month, day, 9 + i % 9, 5 * i % 60)
            data = photo(taken, SKIES[i % len(SKIES)], variant=i, gps=(46.55, 7.98))
            made[f"IMG_{2400 + i}.jpg"] = put(phone, data, f"IMG_{2400 + i}.jpg", "Camera")["id"]
        for name in ("Lease agreement.pdf", "Payslip June.pdf", "Boarding pass.pdf"):
            put(phone, pdf(name.removesuffix(".pdf")), name, "Documents")
        put(phone, song(3.0, 392.0), "Morning tune.wav", "Music")
        for folder in ("Camera/Edited", "Documents/Taxes 2023"):
            phone.call("POST", "/api/v1/folders", json={"path": folder})
        album = phone.call("POST", "/api/v1/albums", json={"name": "Summer in the Alps"})
        phone.call(
            "POST",
            f"/api/v1/albums/{album['id']}/items",
            json={"file_ids": [made[f"IMG_{2400 + i}.jpg"] for i in range(6)]},
        )
        made["album"] = album["id"]
    return made


def test_screenshots_of_the_locker(server, browser: Browser, shots):
    make_user(server.runtime)
    scene = _scene(server.url)
    make_thumbnails(server.runtime)
    taken: list[Path] = []
    for label, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport, locale="en-GB", has_touch=label == "phone")
        page = context.new_page()
        problems = watch(page)
        log_in(page, server.url)
        page.goto(f"{server.url}/locker/photos")
        expect(page.locator("#listing li.month h2")).to_have_text(
            ["July 2024", "June 2024", "April 2024"]
        )
        assert natural_width(page.locator("#listing img").last) == 256
        taken.append(shot(page, shots, f"{label}-locker-photos"))
        assert no_sideways_scroll(page)

        page.get_by_role("link", name=re.compile("^IMG_2401.jpg")).click()
        viewer = page.get_by_role("dialog", name="File")
        expect(viewer.locator("dl.facts")).to_contain_text("Google Pixel 8")
        natural_width(viewer.locator(".panel-media img"))
        taken.append(shot(page, shots, f"{label}-locker-photo"))
        viewer.get_by_role("button", name="Close").click()

        page.goto(f"{server.url}/locker/files/Documents")
        expect(page.locator("#listing li .row-name").first).to_have_text("Taxes 2023")
        taken.append(shot(page, shots, f"{label}-locker-files"))
        assert no_sideways_scroll(page)

        page.goto(f"{server.url}/locker/albums/{scene['album']}")
        expect(page.locator("#listing li.item img")).to_have_count(6)
        page.get_by_label("Select IMG_2402.jpg").check()
        page.get_by_label("Select IMG_2404.jpg").check()
        expect(page.get_by_role("region", name="Selected files")).to_contain_text("2 selected")
        natural_width(page.locator("#listing li.item img").last)
        taken.append(shot(page, shots, f"{label}-locker-album"))
        assert no_sideways_scroll(page)
        context.close()
        assert problems == [], (label, problems)
    save_for_docs(taken)
