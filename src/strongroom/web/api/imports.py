"""Imports of other tools' message backups: a file uploaded with tus, imported by a job.

Upload the file to ``/api/v1/uploads`` with ``Upload-Metadata: purpose import, filename ...``
(a zip for folders: an iPhone backup, a folder of .eml, sms.db with its Attachments), then
``POST /api/v1/imports {"upload": "<upload id>", "format": "auto"}``; ``GET
/api/v1/imports/{id}`` follows its progress, counts and problems.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from strongroom.errors import Conflict, InvalidInput, NotFound
from strongroom.jobs import imports
from strongroom.locker import uploads
from strongroom.sync.tokens import parse_id
from strongroom.web.deps import CurrentUser, RuntimeDep

router = APIRouter(tags=["imports"])


class ImportIn(BaseModel):
    upload: str = Field(max_length=64, description="The id of a finished tus upload")
    format: str = Field("auto", description=f"One of: {', '.join(imports.FORMATS)}")
    password: str | None = Field(
        None, max_length=1024, description="An encrypted iPhone backup's password"
    )


class ImportOut(BaseModel):
    id: str
    state: str = Field(description="queued, running, retrying, done or failed")
    format: str
    filename: str
    created_at: int
    started_at: int | None
    finished_at: int | None
    progress: dict[str, Any] = Field(
        description="fraction (0..1, or null when unknown), file, bytes_read, bytes_total, "
        "records_read, records_expected (the fraction is in bytes for files read front to back, "
        "else in records where the reader counted them: a Messages database, an iPhone backup, "
        "a folder of .eml), and the counts so far"
    )
    counts: dict[str, int] = Field(
        description="imported, duplicates, skipped, problems, messages, calls"
    )
    problems: list[dict[str, str]] = Field(description="where and message, the first 200")
    error: str | None

    @classmethod
    def of(cls, st: imports.ImportStatus) -> ImportOut:
        return cls(id=str(st.id), **{k: v for k, v in vars(st).items() if k != "id"})


class ImportList(BaseModel):
    imports: list[ImportOut]


class NotImportUpload(Conflict):
    slug = "not-an-import-upload"
    title = "The upload is not a finished import upload"


@router.post("/imports", status_code=202, summary="Import an uploaded backup file, as a job")
def start_import(
    body: ImportIn, user: CurrentUser, rt: RuntimeDep, response: Response
) -> ImportOut:
    if body.format not in imports.FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(imports.FORMATS)}")
    now = rt.clock.now_ms()
    with rt.db.write() as s:
        upload = uploads.get(s, user.account_id, body.upload, now)
        meta = dict(upload.meta or {})
        if meta.get("purpose") != "import" or upload.content_id is None:
            raise NotImportUpload(
                "upload the file with Upload-Metadata purpose=import, and finish it first"
            )
        content_id = upload.content_id
        uploads.hold(s, upload.id, now)
    job_id = imports.enqueue_import(
        rt,
        user.account_id,
        content_id,
        format_name=body.format,
        filename=meta.get("filename") or "upload",
        password=body.password,
        upload=body.upload,
    )
    response.headers["Location"] = f"/api/v1/imports/{job_id}"
    return ImportOut.of(imports.import_status(rt, user.account_id, job_id))


@router.get("/imports", summary="The account's latest imports, newest first")
def list_imports(user: CurrentUser, rt: RuntimeDep) -> ImportList:
    return ImportList(
        imports=[
            ImportOut.of(imports.import_status(rt, user.account_id, i))
            for i in imports.imports_of(rt, user.account_id)
        ]
    )


@router.get("/imports/{import_id}", summary="An import's state, progress, counts and problems")
def get_import(import_id: str, user: CurrentUser, rt: RuntimeDep) -> ImportOut:
    value = parse_id(import_id)
    if value is None:
        raise NotFound("no such import")
    return ImportOut.of(imports.import_status(rt, user.account_id, value))
