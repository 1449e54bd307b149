"""Errors to HTTP: the one place that knows status codes.

API paths (``/api/...``) answer RFC 9457 ``application/problem+json`` with a stable ``type``
(``/api/v1/problems/<slug>``, which documents itself) and the same slug in ``code``; pages answer
an HTML error page.  Unexpected exceptions are logged and answered with a generic 500 problem:
no traceback ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from strongroom import errors
from strongroom.web.ranges import RangeNotSatisfiable

log = logging.getLogger("strongroom.web")

PROBLEM_JSON = "application/problem+json"

_STATUS: list[tuple[type[errors.StrongroomError], int]] = [
    (RangeNotSatisfiable, 416),
    (errors.InvalidInput, 400),
    (errors.NotAuthenticated, 401),
    (errors.PermissionDenied, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.Gone, 410),
    (errors.PayloadTooLarge, 413),
    (errors.QuotaExceeded, 413),
    (errors.RateLimited, 429),
    (errors.ServiceUnavailable, 503),
]

_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-input", "The input is not valid"),
    500: ("internal-error", "Internal server error"),
}


def status_of(exc: errors.StrongroomError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def problem_type(slug: str) -> str:
    return f"/api/v1/problems/{slug}"


def problem_response(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    if not request.url.path.startswith("/api/"):
        return html_error(request, status, title, detail, headers)
    body = {
        "type": problem_type(slug),
        "code": slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def html_error(
    request: Request, status: int, title: str, detail: str, headers: dict[str, str] | None
) -> Response:
    templates = getattr(request.app.state, "templates", None)
    if templates is None:
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status, headers=headers)
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "error.html",
        {"status": status, "title": title, "detail": detail, "principal": None},
        status_code=status,
        headers=headers,
    )


async def _strongroom_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, errors.StrongroomError)
    status = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, RangeNotSatisfiable):
        headers["Content-Range"] = exc.detail
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, errors.NotAuthenticated) and request.url.path.startswith("/api/"):
        headers["WWW-Authenticate"] = 'Bearer realm="strongroom"'
    if status >= 500:
        log.error("%s: %s", type(exc).__name__, exc.detail)
    extra = {k: v for k, v in exc.extra.items() if isinstance(v, str | int | float | bool | None)}
    return problem_response(request, status, exc.slug, exc.title, exc.detail, headers, **extra)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        problems.append({"field": ".".join(loc), "message": err.get("msg", "invalid")})
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return problem_response(
            request, 400, "malformed-json", "Malformed JSON", "the request body is not valid JSON"
        )
    summary = "; ".join(f"{p['field'] or 'body'}: {p['message']}" for p in problems[:5])
    return problem_response(
        request, 422, "invalid-input", "The input is not valid", summary, errors=problems
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("error", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404:
        detail = f"there is nothing at {request.url.path}"
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(request, exc.status_code, slug, title, detail, headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(
        request, 500, "internal-error", "Internal server error", "the server failed; it is logged"
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.StrongroomError, _strongroom_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def known_problems() -> dict[str, type[errors.StrongroomError]]:
    """Every problem slug the server can answer, for the ``/api/v1/problems`` documentation."""
    found: dict[str, type[errors.StrongroomError]] = {}
    pending: list[type[errors.StrongroomError]] = [errors.StrongroomError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.slug, cls)
        pending.extend(cls.__subclasses__())
    return found
