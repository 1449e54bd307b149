"""What every command shares: the global options and how to open the installation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from strongroom.config import Settings
    from strongroom.runtime import Runtime


@dataclass
class Context:
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self, **more: Any) -> Settings:
        from strongroom.config import load_settings  # imported late: commands start faster

        return load_settings(**{**self.overrides, **more})


def obj(ctx: typer.Context) -> Context:
    found = ctx.find_object(Context)
    return found if found is not None else Context()


@contextmanager
def runtime(ctx: typer.Context, **settings: Any) -> Iterator[Runtime]:
    """Open the installation for one command and close it afterwards."""
    from strongroom.runtime import open_runtime

    rt = open_runtime(obj(ctx).settings(**settings))
    try:
        yield rt
    finally:
        rt.close()


def read_secret(from_stdin: bool, prompt: str, *, confirm: bool = False) -> str:
    """A password from the first line of stdin, or typed at a hidden prompt."""
    import sys

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))
