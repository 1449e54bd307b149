"""Every model module, imported so that their tables are on ``Base.metadata``.

Used by Alembic's autogenerate and by the test that compares migrations with the models.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

MODEL_MODULES = (
    "strongroom.runtime",
    "strongroom.accounts.models",
    "strongroom.jobs.models",
    "strongroom.content.models",
    "strongroom.messages.models",
    "strongroom.locker.models",
)


def target_metadata() -> MetaData:
    from strongroom.db import Base

    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata
