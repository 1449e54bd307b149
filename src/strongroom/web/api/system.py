"""Health and the documentation of problem types."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from strongroom import __version__
from strongroom.errors import NotFound
from strongroom.web.deps import RuntimeDep
from strongroom.web.errors import known_problems, problem_type

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    version: str
    database: str


class ProblemDoc(BaseModel):
    type: str
    code: str
    title: str
    description: str


@router.get("/health", summary="Is the server up and its database reachable?")
def health(rt: RuntimeDep) -> Health:
    with rt.db.read() as s:
        s.execute(text("SELECT 1"))
    return Health(status="ok", version=__version__, database=rt.db.dialect)


@router.get("/problems/{code}", summary="What a problem type means")
def problem(code: str) -> ProblemDoc:
    cls = known_problems().get(code)
    if cls is None:
        raise NotFound(f"no problem type {code!r}")
    return ProblemDoc(
        type=problem_type(code),
        code=code,
        title=cls.title,
        description=" ".join((cls.__doc__ or cls.title).split()),
    )
