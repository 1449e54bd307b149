"""Message histories for the browser tests and the README's screenshots, uploaded the way a
phone does (through the API, as a registered device)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw

from tests.factories import message

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

MUM = "+15550100001"
SAM = "+15550100002"
ALEX = "+15550100003"
PRIYA = "+15550100004"
LONDON = "+442079460018"


def landscape_png(width: int = 480, height: int = 320) -> bytes:
    """A small picture (sky, sun, hills) that looks like a photo in a screenshot."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)], fill=(int(90 + 120 * t), int(150 + 70 * t), int(230 - 30 * t))
        )
    draw.ellipse([width * 0.65, height * 0.12, width * 0.8, height * 0.34], fill=(255, 214, 102))
    draw.polygon(
        [
            (0, height),
            (0, height * 0.62),
            (width * 0.3, height * 0.45),
            (width * 0.62, height * 0.7),
            (width, height * 0.5),
            (width, height),
        ],
        fill=(46, 125, 80),
    )
    draw.polygon(
        [
            (0, height),
            (width * 0.2, height * 0.78),
            (width * 0.55, height * 0.9),
            (width, height * 0.72),
            (width, height),
        ],
        fill=(33, 96, 60),
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def part(content_type: str, data: bytes, filename: str) -> dict[str, Any]:
    return {
        "content_type": content_type,
        "filename": filename,
        "data_base64": base64.b64encode(data).decode(),
    }


@dataclass
class Scene:
    """What was uploaded: the conversations' ids by name, and each message's server id by its
    client id."""

    conversations: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)


def _items(now: int) -> list[dict[str, Any]]:
    def at(hours_ago: float) -> int:
        return int(now - hours_ago * HOUR_MS)

    photo = part("image/png", landscape_png(), "lake.png")
    pdf = part("application/pdf", b"%PDF-1.4\n% itinerary\n", "Itinerary Lisbon.pdf")
    hikers = [SAM, ALEX, PRIYA]
    return [
        message(
            "Are you coming for dinner on Sunday?",
            sender=MUM,
            date=at(50),
            read=True,
            client_id="mum-1",
        ),
        message(
            "Yes! I'll bring dessert",
            direction="out",
            participants=[MUM],
            date=at(49.5),
            client_id="mum-2",
        ),
        message(
            "Lovely. Grandpa wants to see the photos from the lake",
            sender=MUM,
            date=at(26),
            read=True,
            client_id="mum-3",
        ),
        message(
            "",
            kind="mms",
            direction="out",
            participants=[MUM],
            date=at(25.8),
            parts=[photo],
            client_id="mum-photo",
        ),
        message(
            "Here it is, the view from the cabin",
            direction="out",
            participants=[MUM],
            date=at(25.7),
            client_id="mum-4",
        ),
        message(
            "Beautiful! Don't forget your jacket, it will be cold at the lake this weekend",
            sender=MUM,
            date=at(1.2),
            client_id="mum-5",
        ),
        message(
            "Who's in for the ridge trail on Saturday?",
            kind="mms",
            sender=SAM,
            participants=hikers,
            group_title="Hiking crew",
            date=at(30),
            read=True,
            client_id="hike-1",
        ),
        message(
            "Me! Leaving at 7?",
            kind="mms",
            sender=ALEX,
            participants=hikers,
            group_title="Hiking crew",
            date=at(29.5),
            read=True,
            client_id="hike-2",
        ),
        message(
            "Count me in, I'll drive",
            kind="mms",
            direction="out",
            participants=hikers,
            group_title="Hiking crew",
            date=at(29),
            client_id="hike-3",
        ),
        message(
            "I'll bring the snacks and the good thermos",
            kind="mms",
            sender=PRIYA,
            participants=hikers,
            group_title="Hiking crew",
            date=at(3),
            client_id="hike-4",
        ),
        message(
            "Weather says sunny until 3pm",
            kind="mms",
            sender=SAM,
            participants=hikers,
            group_title="Hiking crew",
            date=at(2.5),
            client_id="hike-5",
        ),
        message(
            "Your booking is confirmed. Details attached.",
            kind="mms",
            sender=LONDON,
            date=at(72),
            read=True,
            parts=[pdf],
            client_id="trip-1",
        ),
        message(
            "Thanks, see you in March",
            direction="out",
            participants=[LONDON],
            date=at(71),
            status="failed",
            client_id="trip-2",
        ),
        message(
            "Your parcel will arrive today between 10:00 and 12:00",
            sender="+15550100077",
            date=at(100),
            read=True,
            client_id="parcel-1",
        ),
        message(
            "Code 481 516 is your sign-in code. Don't share it.",
            sender="+15550100088",
            date=at(200),
            read=True,
            client_id="code-1",
        ),
    ]


def upload_scene(client: Any, now: int) -> Scene:
    """Upload the scene's messages through ``client`` (a registered device's Client)."""
    items = _items(now)
    answer = client.upload(items)
    scene = Scene()
    for item, result in zip(items, answer["results"], strict=True):
        assert result["status"] == "created", result
        scene.ids[item["client_id"]] = result["id"]
    by_key = {"mum": MUM, "hike": "Hiking crew", "trip": LONDON}
    for convo in client.conversations():
        for key, label in by_key.items():
            if convo["title"] == label or convo["participants"] == [label]:
                scene.conversations[key] = convo["id"]
    return scene
