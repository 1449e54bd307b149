"""Screenshots of the main pages at desktop and phone widths, as in the README.

They go to the test's output folder; with ``STRONGROOM_SCREENSHOTS=docs/screenshots`` they are
also written there (that is how the committed ones are made).
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, expect

from tests.factories import make_user, message, messages_client
from tests.web.ui.browsing import log_in, natural_width, no_sideways_scroll, shot
from tests.web.ui.browsing import watch_console as watch
from tests.web.ui.scenes import upload_scene

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def test_screenshots_of_the_main_pages(server, browser: Browser, shots):
    make_user(server.runtime)
    clock = server.runtime.clock
    clock.advance(days=-3)  # the tablet backed up three days ago, then fell silent
    with messages_client(server.url, name="Old tablet") as tablet:
        tablet.upload([message("an old message", date=clock.now_ms() - 9 * 86_400_000)])
    clock.advance(days=3)
    with messages_client(server.url, name="Pixel 8") as phone:
        scene = upload_scene(phone, server.runtime.clock.now_ms())
    taken: list[Path] = []
    for label, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport, locale="en-GB", has_touch=label == "phone")
        page = context.new_page()
        problems = watch(page)
        log_in(page, server.url)
        expect(page.get_by_role("alert")).to_contain_text("Old tablet has not backed up for 3 days")
        taken.append(shot(page, shots, f"{label}-dashboard"))
        page.goto(f"{server.url}/messages")
        taken.append(shot(page, shots, f"{label}-messages"))
        page.goto(f"{server.url}/messages/c/{scene.conversations['mum']}")
        assert natural_width(page.locator(f"#m{scene.ids['mum-photo']} img")) > 0
        page.mouse.move(0, 0)
        taken.append(shot(page, shots, f"{label}-conversation"))
        page.goto(f"{server.url}/messages/c/{scene.conversations['hike']}")
        expect(page.locator(".msg").last).to_be_in_viewport()
        taken.append(shot(page, shots, f"{label}-group"))
        page.goto(f"{server.url}/messages/search?q=lake")
        expect(page.locator(".hit-link").first).to_be_visible()
        taken.append(shot(page, shots, f"{label}-search"))
        page.goto(f"{server.url}/account/messages")
        taken.append(shot(page, shots, f"{label}-settings"))
        assert no_sideways_scroll(page)
        context.close()
        assert problems == [], (label, problems)
    target = os.environ.get("STRONGROOM_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for path in taken:  # 256 colours: a third of the size, and no visible difference
            with Image.open(path) as image:
                small = image.convert("RGB").quantize(256, dither=Image.Dither.NONE)
                small.save(Path(target) / path.name, optimize=True)
