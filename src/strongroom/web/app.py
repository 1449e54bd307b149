"""``create_app(runtime)``: wires the API, the pages, static files, middleware and error handling.

It builds nothing global: every app gets the :class:`~strongroom.runtime.Runtime` it is given,
so tests build one app per test against their own database and blob store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from strongroom import __version__
from strongroom.jobs import make_worker
from strongroom.runtime import Runtime
from strongroom.web import api, errors, ui
from strongroom.web.api.uploads import Appenders
from strongroom.web.events import EventHub
from strongroom.web.middleware import BodyLimit, SecurityHeaders
from strongroom.web.pages import make_templates

STATIC = Path(__file__).parent / "static"
UPLOADS_PATH = "/api/v1/uploads"


class CachedStatic(StaticFiles):
    """Static files with a cache lifetime; ETag/Last-Modified revalidation comes from Starlette."""

    async def get_response(self, path: str, scope: Scope):  # type: ignore[no-untyped-def]
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = "public, max-age=3600"
        return response


def create_app(runtime: Runtime) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = make_worker(runtime) if runtime.settings.run_jobs else None
        thread = worker.start_thread() if worker else None
        try:
            yield
        finally:
            await app.state.events.stop()
            if worker is not None and thread is not None:
                worker.stop()
                thread.join(30)
            await run_in_threadpool(runtime.db.checkpoint)

    app = FastAPI(
        title="Strongroom",
        version=__version__,
        summary="Backup and sync for messages, photos, files and contacts.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.templates = make_templates()
    app.state.events = EventHub(runtime)
    app.state.appenders = Appenders()
    errors.install(app)
    api.install(app)
    app.include_router(ui.router())
    app.mount("/static", CachedStatic(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, limit=runtime.settings.max_body_bytes, exempt=[UPLOADS_PATH])
    app.add_middleware(SecurityHeaders)
    return app


def app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory``, configured by STRONGROOM_* variables (set by serve)."""
    from strongroom.config import load_settings
    from strongroom.runtime import open_runtime

    return create_app(open_runtime(load_settings()))
