"""Server-Sent Events: tell connected clients at once that their account's state changed.

One :class:`EventHub` per process watches the change sequence of the accounts that have a client
connected, with a single query per tick however many clients are connected, so it also sees
changes made by other server processes and workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator

from sqlalchemy import select

from strongroom.accounts.models import Account
from strongroom.runtime import Runtime

TICK_S = 0.5
KEEPALIVE_S = 15.0


class EventHub:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.listeners: dict[int, set[asyncio.Queue[dict[str, object]]]] = defaultdict(set)
        self.states: dict[int, tuple[int, bool]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def poke(self) -> None:
        """Look now instead of at the next tick (after a write in this process)."""
        self._wake.set()

    def _read_states(self, accounts: list[int]) -> dict[int, tuple[int, bool]]:
        with self.rt.db.read() as s:
            rows = s.execute(
                select(Account.id, Account.change_seq, Account.messages_enabled).where(
                    Account.id.in_(accounts)
                )
            ).all()
        return {int(a): (int(seq), bool(on)) for a, seq, on in rows}

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_S)
            self._wake.clear()
            accounts = [a for a, qs in self.listeners.items() if qs]
            if not accounts:
                continue
            try:
                states = await asyncio.to_thread(self._read_states, accounts)
            except Exception:  # noqa: BLE001 - the database may be restarting; try next tick
                continue
            for account_id, state in states.items():
                before = self.states.get(account_id)
                self.states[account_id] = state
                if before != state:
                    self._publish(account_id, state)

    def _publish(self, account_id: int, state: tuple[int, bool]) -> None:
        event = {"state": str(state[0]), "messages": state[1]}
        for queue in list(self.listeners.get(account_id, ())):
            if queue.qsize() < 100:
                queue.put_nowait(event)

    async def stream(self, account_id: int) -> AsyncIterator[str]:
        """The SSE text stream for one client: the current state first, then every change."""
        queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        self.listeners[account_id].add(queue)
        self.start()
        try:
            current = (await asyncio.to_thread(self._read_states, [account_id])).get(account_id)
            last: dict[str, object] | None = None
            if current is not None:
                self.states.setdefault(account_id, current)
                last = {"state": str(current[0]), "messages": current[1]}
                yield _format("state", last)
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event == last:
                    continue  # the watcher saw this state too (it may read before we did)
                last = event
                yield _format("state", event)
        finally:
            self.listeners[account_id].discard(queue)


def _format(name: str, data: dict[str, object]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"
