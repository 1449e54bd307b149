"""The HTTP face of Strongroom: JSON API, pages, static files (``create_app``)."""

from __future__ import annotations

from strongroom.web.app import create_app

__all__ = ["create_app"]
