"""A typed-enough HTTP client for the Strongroom API (``/api/v1``), over httpx.

It never imports server code: it runs on phones' companion tools, desktops and test machines.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx


class ApiError(Exception):
    """The server answered with an RFC 9457 problem; ``code`` is its stable slug."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code = str(problem.get("code", "error"))
        super().__init__(f"{status} {self.code}: {problem.get('detail', '')}")


class Client:
    """One device's (or one script's) authenticated connection to a server."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.device_id: str | None = None
        self.http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    @classmethod
    def register(
        cls,
        base_url: str,
        user: str,
        password: str,
        *,
        name: str,
        platform: str,
        transport: httpx.BaseTransport | None = None,
    ) -> Client:
        """Register a new device with the account's password and return its client."""
        anonymous = cls(base_url, transport=transport)
        body = anonymous.call(
            "POST",
            "/api/v1/devices",
            json={"user": user, "password": password, "name": name, "platform": platform},
        )
        anonymous.close()
        client = cls(base_url, body["token"], transport=transport)
        client.device_id = body["device_id"]
        return client

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request; return the JSON answer (None for 204).  Raises ApiError."""
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"code": "http-error", "detail": response.text[:200]}
            raise ApiError(response.status_code, problem)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # -- account ------------------------------------------------------------------------

    def account(self) -> dict[str, Any]:
        return self.call("GET", "/api/v1/account")  # type: ignore[no-any-return]

    def update_account(self, **settings: Any) -> dict[str, Any]:
        return self.call("PATCH", "/api/v1/account", json=settings)  # type: ignore[no-any-return]

    def set_messages_service(self, enabled: bool, confirm: str | None = None) -> bool:
        body = self.call(
            "PUT",
            "/api/v1/account/services/messages",
            json={"enabled": enabled, "confirm": confirm},
        )
        return bool(body["enabled"])

    # -- messages -------------------------------------------------------------------------

    def upload(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        return self.call("POST", "/api/v1/messages/upload", json={"items": items})  # type: ignore[no-any-return]

    def changes(self, since: str | None, max_changes: int = 1000) -> dict[str, Any]:
        params: dict[str, Any] = {"max": max_changes}
        if since is not None:
            params["since"] = since
        return self.call("GET", "/api/v1/messages/changes", params=params)  # type: ignore[no-any-return]

    def get(self, ids: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), 1000):
            body = self.call(
                "POST", "/api/v1/messages/get", json={"ids": ids[start : start + 1000]}
            )
            found += body["messages"]
        return found

    def set(
        self, update: dict[str, dict[str, Any]] | None = None, destroy: list[str] | None = None
    ) -> dict[str, Any]:
        return self.call(  # type: ignore[no-any-return]
            "POST", "/api/v1/messages/set", json={"update": update or {}, "destroy": destroy or []}
        )

    def all_ids(self) -> tuple[list[str], str]:
        """Every message id and the state to pull changes from afterwards."""
        ids: list[str] = []
        cursor: str | None = None
        state: str | None = None
        while True:
            params = {"cursor": cursor} if cursor else {}
            body = self.call("GET", "/api/v1/messages/all", params=params)
            state = state or body["state"]
            ids += body["ids"]
            cursor = body["cursor"]
            if cursor is None:
                assert state is not None
                return ids, state

    def part(self, part_id: str) -> httpx.Response:
        response = self.http.get(f"/api/v1/messages/parts/{part_id}")
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.json())
        return response

    def search(self, q: str, **filters: Any) -> dict[str, Any]:
        return self.call("GET", "/api/v1/messages/search", params={"q": q, **filters})  # type: ignore[no-any-return]

    def conversations(self) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            params = {"cursor": cursor} if cursor else {}
            body = self.call("GET", "/api/v1/conversations", params=params)
            yield from body["conversations"]
            cursor = body["cursor"]
            if cursor is None:
                return

    def conversation_messages(
        self, conversation_id: str, before: str | None = None, limit: int = 50
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if before:
            params["before"] = before
        return self.call(  # type: ignore[no-any-return]
            "GET", f"/api/v1/conversations/{conversation_id}/messages", params=params
        )
