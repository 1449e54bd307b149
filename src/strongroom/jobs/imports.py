"""Importing other tools' files into an account's message vault: one path for the CLI and the API.

:func:`run_import` reads each input with its format's reader (:mod:`strongroom.formats`) and
hands the records to the messages service (:class:`~strongroom.messages.ingest.Ingest`) in
batches of :data:`BATCH`, one transaction each.  Reactions that came as rows of their own are
attached once the batch holding their target is stored; calls go to the call log.

The streaming readers run in a child process (:mod:`strongroom.formats.reading`), so parsing and
storing overlap on two cores; batches cross over a bounded queue, so memory stays flat whatever
the size of the input.  Attachments a reader spools go to a scratch folder of this
import, removed at the end.

Running the same import again, or a second tool's overlapping file, stores nothing twice: the
messages service matches every message against the vault.  A run that stops half-way (a crash,
a full disk) leaves every committed batch in place, and running it again completes the rest.
"""

from __future__ import annotations

import base64
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from strongroom.accounts.keys import vault_for
from strongroom.accounts.models import Account
from strongroom.content import store as content
from strongroom.errors import InvalidInput, NotFound
from strongroom.formats import FORMATS, BadInput, ReadOptions, detect, reader_for, reading
from strongroom.formats.folders import check_name
from strongroom.jobs import queue
from strongroom.jobs.models import Job
from strongroom.jobs.runner import JobContext
from strongroom.messages import housekeeping
from strongroom.messages.ingest import Incoming, Ingest, Outcome, StagedBatch
from strongroom.messages.preparing import as_ready
from strongroom.messages.records import (
    CallRecord,
    Expected,
    MessageRecord,
    Problem,
    ReactionRecord,
)
from strongroom.runtime import Runtime

BATCH = 6000
"""Messages stored per transaction.  Each commit writes every page the batch touched, and a
batch touches a leaf of the conversation index in most conversations whatever its size: at a
million messages, 6,000 a batch stored them in 39-46 s against 44-50 s with 3,000 (and 37-41 s
with 12,000, but then the importing process alone peaked at 304 MB)."""
SHARED_MESSAGES = 30_000
SHARED_SECONDS = 1.0
"""SQLite: batches share a transaction until it holds this many messages or has been open
this long (:meth:`Ingest.share_transactions`); it is also committed whenever the import is
about to wait (for the reader, or for a batch still being staged), so that other writers wait
for it no longer than that."""
PROBLEMS_KEPT = 200
"""Problems listed in a report (all are counted)."""
SEQUENTIAL = ("sbr-xml", "mbox")
"""Readers that read their file front to back, whose read position is their progress."""
JOB_KIND = "import"

ProgressHook = Callable[["ImportReport"], None]


@dataclass
class ImportReport:
    """What an import did.  ``imported``/``duplicates``/``skipped`` count messages and calls."""

    imported: int = 0
    duplicates: int = 0
    skipped: int = 0
    problems: int = 0
    messages: int = 0
    calls: int = 0
    reactions: int = 0
    parts: int = 0
    """Attachment parts of the messages imported (pictures, text and layout parts)."""
    skipped_why: dict[str, int] = field(default_factory=dict)
    skipped_list: list[dict[str, str]] = field(default_factory=list)
    """The first skipped messages: which (file, time, sender) and why."""
    problem_list: list[dict[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    turned_on: bool = False
    """The account's messages service was off, and the import turned it on."""
    file: str | None = None
    bytes_read: int = 0
    bytes_total: int = 0
    """Bytes of the inputs read front to back (their read position is their progress)."""
    records_read: int = 0
    """Messages, reactions and calls handed over by the readers so far."""
    records_expected: int = 0
    """What the readers that count their records expect to hand over (Expected), so far."""

    def problem(self, where: str, message: str) -> None:
        self.problems += 1
        if len(self.problem_list) < PROBLEMS_KEPT:
            self.problem_list.append({"where": where, "message": message})

    def skip(self, why: str, what: str | None = None, detail: str | None = None) -> None:
        self.skipped += 1
        self.skipped_why[why] = self.skipped_why.get(why, 0) + 1
        if what and len(self.skipped_list) < PROBLEMS_KEPT:
            self.skipped_list.append({"what": what, "reason": detail or why})

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def done_of_total(self) -> tuple[int, int] | None:
        """How far the reading has got, as (done, total): in bytes when the inputs are read
        front to back, else in records when their readers counted them; None when nothing
        tells (the total is an estimate, so ``done`` is held below it)."""
        if self.bytes_total:
            return min(self.bytes_read, self.bytes_total), self.bytes_total
        if self.records_expected:
            return min(self.records_read, self.records_expected), self.records_expected
        return None


# -- storing --------------------------------------------------------------------------------


def _describe(file: str | None, rec: Incoming) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(rec.date_ms / 1000))
    who = f"from {rec.sender}" if rec.direction == "in" else f"to {', '.join(rec.participants)}"
    return f"{file or 'input'}: the {rec.kind} of {when} UTC {who}"[:300]


_Ahead = tuple[list[tuple[str | None, Incoming]], Future[StagedBatch], list[ReactionRecord]]
"""A batch being staged, and the reactions read with it."""


class _Importer:
    """Stores what a reader hands over, in batches.  A batch's attachments are staged on a
    thread while the batch before it is stored (encryption, hashing and file writes mostly run
    outside the interpreter lock), so one batch is in flight: :meth:`close` waits for it."""

    def __init__(
        self, ingest: Ingest, report: ImportReport, before_store: Callable[[Ingest], None]
    ) -> None:
        self.ingest, self.report, self.before_store = ingest, report, before_store
        ingest.share_transactions(SHARED_MESSAGES, SHARED_SECONDS)
        self.staging = ThreadPoolExecutor(1, thread_name_prefix="strongroom-import-stage")
        self.ahead: _Ahead | None = None
        self.next: _Ahead | None = None
        """The batch being stored (until :meth:`_store_ahead` takes it)."""
        # Spooled parts are deleted beside the storing: an unlink can take a millisecond (a
        # filesystem mounted with online discard), and a batch frees hundreds of them.
        self.discarding = ThreadPoolExecutor(1, thread_name_prefix="strongroom-import-discard")
        self.messages: list[tuple[str | None, Incoming]] = []
        self.reactions: list[ReactionRecord] = []
        self.calls: list[CallRecord] = []

    def take_all(self, records: list[reading.Handed]) -> None:
        """Take a hand-over's records: messages (nearly all of them) into the batch, the
        others by their kind."""
        self.report.records_read += len(records)  # less the few that are not records of data
        messages = self.messages
        for record in records:
            if type(record) is tuple:  # a message the reading process made ready
                messages.append((None, as_ready(record)))
            elif isinstance(record, MessageRecord):
                messages.append((None, record))
            else:
                assert not isinstance(record, tuple)
                self._take_other(record)  # may flush the messages too
                messages = self.messages
                continue
            if len(messages) >= BATCH:
                self.flush()
                messages = self.messages

    def _take_other(self, record: ReactionRecord | CallRecord | Problem | Expected) -> None:
        if isinstance(record, ReactionRecord):
            self.reactions.append(record)
            if len(self.reactions) >= BATCH:
                self.flush()
        elif isinstance(record, CallRecord):
            self.calls.append(record)
            if len(self.calls) >= BATCH:
                self.flush_calls()
        elif isinstance(record, Expected):
            self.report.records_read -= 1
            self.report.records_expected += record.count
        else:
            self.report.records_read -= 1
            self.report.problem(record.where, record.message)

    def flush(self) -> None:
        """Stage the messages taken so far and store the batch staged before them.  Reactions
        wait for the batch they were read with (their targets are in it, or before it)."""
        batch, self.messages = self.messages, []
        reactions, self.reactions = self.reactions, []
        if batch:
            self.before_store(self.ingest)
            self._store_ahead((batch, self.staging.submit(self.ingest.stage, batch), reactions))
        elif reactions:
            self._store_ahead(None)
            self._add_reactions(reactions)

    def _add_reactions(self, reactions: list[ReactionRecord]) -> None:
        if not reactions:
            return
        self.before_store(self.ingest)
        found = self.ingest.add_reactions(reactions)
        self.report.reactions += found
        for _ in range(len({r.target_guid for r in reactions}) - found):
            self.report.skip("reaction-target-missing")

    def _store_ahead(self, then: _Ahead | None) -> None:
        """Store the batch staged ahead; ``then`` (the batch being staged now, or None) takes
        its place, held only by ``ahead``, so that :meth:`close` lets go of it if storing
        fails."""
        self.next, self.ahead = self.ahead, then
        if self.next is None:
            return
        batch, staging, reactions = self.next
        self.next = None
        # The batch is let go of on another thread, with its spooled parts: freeing a batch's
        # records, items and outcomes (millions of objects in a large import) then runs while
        # this thread waits on the database.  Only ``done`` may hold them when it is handed over.
        done: list[Any] = [batch, staging]
        try:
            if not staging.done():
                self.ingest.commit()  # staging may write (a large part): not under our lock
            outcomes = self.ingest.store(staging.result())
            self._count(batch, outcomes)
            done.append(outcomes)
            del outcomes
        finally:
            del batch, staging
            self.discarding.submit(_let_go, done)
        self._add_reactions(reactions)

    def _count(self, batch: list[tuple[str | None, Incoming]], outcomes: list[Outcome]) -> None:
        report = self.report
        report.messages += len(batch)
        statuses = [outcome.status for outcome in outcomes]
        created, duplicates = statuses.count("created"), statuses.count("duplicate")
        report.imported += created
        report.duplicates += duplicates
        for (_, rec), outcome in zip(batch, outcomes, strict=True):
            if rec.parts and outcome.status == "created":
                report.parts += len(rec.parts)
        if created + duplicates == len(statuses):
            return
        for (_, rec), outcome in zip(batch, outcomes, strict=True):
            if outcome.status not in ("created", "duplicate"):
                problem = outcome.problem or {"code": "rejected", "detail": "not stored"}
                report.skip(problem["code"], _describe(report.file, rec), problem["detail"])

    def flush_calls(self) -> None:
        calls, self.calls = self.calls, []
        if not calls:
            return
        self.report.calls += len(calls)
        self.before_store(self.ingest)
        for status in self.ingest.add_calls(calls):
            if status == "created":
                self.report.imported += 1
            elif status == "duplicate":
                self.report.duplicates += 1
            else:
                self.report.skip("bad-call")

    def finish(self) -> None:
        """Store everything taken so far."""
        self.flush()
        self._store_ahead(None)
        self.flush_calls()
        self.ingest.commit()

    def wait(self) -> None:
        """About to wait for the reader: store the batch staged ahead if its staging is done
        (it would otherwise wait for the next batch to be read: at the start of an import,
        nothing was stored until two batches had been), then commit, so that other writers
        need not wait too."""
        if self.ahead is not None and self.ahead[1].done():
            self._store_ahead(None)
        self.ingest.commit()

    def close(self) -> None:
        """Wait for the threads (also when storing failed: a batch staged but not stored is
        left to the chunk reclaimer, as after a crash).  A shared transaction still open is
        ended: committed when the import stopped outside the database (what was stored stays),
        rolled back when a write in it failed."""
        try:
            self.ingest.commit()
        except Exception:  # noqa: BLE001 - the failure that stopped the import is reported
            pass  # not stored after all: running the import again stores it
        if self.ahead is not None:
            batch, staging, _ = self.ahead
            self.ahead = None
            wait([staging])
            if staging.exception() is None:
                self.ingest.release(staging.result())  # its pictures' chunks, on the lists
            _let_go([batch, staging])
        self.staging.shutdown(wait=True)
        self.discarding.shutdown(wait=True)


FREED_AT_ONCE = 256
"""Entries of a batch's lists freed at a time (see :func:`_let_go`)."""


def _let_go(done: list[Any]) -> None:
    """Delete the spooled parts of a batch (``done[0]``), then drop what ``done`` holds (the
    batch, its staging's future, its outcomes), so that the batch is freed here.

    The lists are emptied a slice at a time.  Freeing a whole batch is one cascade of
    deallocations inside the interpreter, 5-9 ms of a 6,000-message batch with the interpreter
    lock held, and the storing thread, coming back from the database, waited it out; between
    slices the lock changes hands."""
    batch: list[tuple[str | None, Incoming]] = done[0]
    for _, rec in batch:
        for part in rec.parts:
            part.content.discard()
    lists: list[list[Any]] = [batch, *(d for d in done[2:] if isinstance(d, list))]
    staging = done[1] if len(done) > 1 else None
    if isinstance(staging, Future) and staging.done() and staging.exception() is None:
        staged = staging.result()
        lists += [staged.items, staged.outcomes]
        del staged
    del batch, staging
    for entries in lists:
        while entries:
            del entries[-FREED_AT_ONCE:]
    done.clear()


@contextmanager
def _scratch(rt: Runtime, prefix: str) -> Iterator[Path]:
    """A private folder under the data folder's ``scratch/``, removed afterwards."""
    base = rt.settings.data / "scratch"
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=base) as folder:
        yield Path(folder)


def read_options(rt: Runtime, account_id: int, password: str | None, scratch: Path) -> ReadOptions:
    with rt.db.read() as s:
        account = s.get(Account, account_id)
        if account is None:
            raise NotFound("no such account")
        return ReadOptions(
            owner_numbers=tuple(account.phone_numbers or ()),
            default_region=account.default_region,
            password=password,
            scratch=scratch,
        )


def run_import(
    rt: Runtime,
    account_id: int,
    paths: list[Path],
    format_name: str = "auto",
    *,
    password: str | None = None,
    progress: ProgressHook | None = None,
    source_names: list[str] | None = None,
    keep_going: bool = True,
    report: ImportReport | None = None,
) -> ImportReport:
    """Import every file or folder of ``paths`` into the account; return what was done.

    An account whose messages service is off has it turned on: an import asks for messages
    to be kept.
    An input that cannot be read at all is listed in the report's ``failed`` with the reason
    (naming the file and the position where it applies), and the next input is read; with
    ``keep_going`` False it raises BadInput instead.  What was stored before stays stored.
    ``source_names`` are the names to report instead of the paths' (an uploaded file's own).
    """
    names = source_names or [p.name for p in paths]
    readers = [reader_for(p, format_name) for p in paths]
    report = report or ImportReport()
    report.files = names
    report.bytes_total = sum(
        p.stat().st_size for p, r in zip(paths, readers, strict=True) if r.name in SEQUENTIAL
    )
    with rt.db.read() as s:
        vault = vault_for(s, rt.store, rt.keyring, account_id)

    def turn_on(ingest: Ingest) -> None:
        """Turn the messages service on when the first thing is about to be stored (an import
        that stores nothing leaves the account as it was)."""
        if ingest.settings.enabled:
            return
        with rt.db.write() as s:
            if not s.scalar(select(Account.messages_enabled).where(Account.id == account_id)):
                housekeeping.switch(s, account_id, True, None)
                report.turned_on = True
        ingest.settings.enabled = True

    with reading.fewer_collections(), _scratch(rt, "import-") as scratch:
        options = read_options(rt, account_id, password, scratch)
        done_bytes = 0
        for path, reader, name in zip(paths, readers, names, strict=True):
            report.file = name
            # One run of the messages service per input: within a run identical copies are
            # separate messages (two "ok"s in one second); across inputs they are the same.
            ingest = Ingest(rt.db, vault, rt.clock, account_id, source=reader.name)
            importer = _Importer(ingest, report, turn_on)
            in_child = reading.worth_a_child(reader, path)
            # A reading process prepares the messages, and makes their rows, under the settings
            # this run stores them under (what it hands over ready cannot be prepared again)
            path_options = replace(
                options,
                default_region=ingest.settings.region,
                owner_numbers=tuple(sorted(ingest.settings.owner)),
                rows=ingest.rows,
            )
            try:
                with reading.batches(reader, path, path_options, in_child=in_child) as source:
                    for batch in source.batches:
                        importer.take_all(batch)
                        if reader.name in SEQUENTIAL:
                            report.bytes_read = done_bytes + (source.position() or 0)
                        if progress:
                            progress(report)
                        if not source.ready():
                            importer.wait()
            except BadInput as e:
                importer.finish()  # what was read before the damage is kept
                if not keep_going:
                    raise
                report.failed.append({"file": name, "error": e.detail})
            else:
                importer.finish()
            finally:
                importer.close()  # also when storing failed
            if reader.name in SEQUENTIAL:
                done_bytes += path.stat().st_size
                report.bytes_read = done_bytes
            if progress:
                progress(report)
    report.file = None
    return report


# -- uploaded files -------------------------------------------------------------------------

UNPACKED_LIMIT = 64 * 1024**3
"""The most an uploaded zip may unpack to."""
RATIO_LIMIT = 200
"""A member that unpacks to more than this many times its packed size is refused (a zip bomb)."""


def unpack_zip(path: Path, into: Path, label: str) -> Path:
    """Unpack an uploaded zip (an iPhone backup folder, a folder of .eml, sms.db with its
    attachments) into ``into``; return the folder to import: the only top-level folder, if the
    zip holds just one.  Refuses absolute or ``..`` names, links, and zip bombs (BadInput)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise BadInput(f"{label}: not a readable zip file ({e})") from None
    with archive:
        members = archive.infolist()
        _check_members(members, label)  # all of them before a byte is written
        for info in members:
            target = into / info.filename.rstrip("/")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            try:
                with archive.open(info) as src, target.open("wb") as dst:
                    while piece := src.read(1024 * 1024):
                        written += len(piece)
                        if written > info.file_size:
                            raise BadInput(f"{label}: {info.filename!r} is larger than it says")
                        dst.write(piece)
            except (zipfile.BadZipFile, OSError, EOFError) as e:
                raise BadInput(f"{label}: {info.filename!r} cannot be unpacked ({e})") from None
    entries = list(into.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return into


def _check_members(members: list[zipfile.ZipInfo], label: str) -> None:
    total = 0
    for info in members:
        try:
            check_name(info.filename.rstrip("/"))
        except ValueError:
            raise BadInput(
                f"{label}: the zip holds {info.filename!r}, a name outside its folder"
            ) from None
        if (info.external_attr >> 16) & 0o170000 == 0o120000:
            raise BadInput(f"{label}: the zip holds a symbolic link, {info.filename!r}")
        total += info.file_size
        if total > UNPACKED_LIMIT or info.file_size > RATIO_LIMIT * max(info.compress_size, 1024):
            raise BadInput(f"{label}: {info.filename!r} unpacks to too much (a zip bomb?)")


def _password_context(job_id: int) -> str:
    return f"import-password:{job_id}"


def enqueue_import(
    rt: Runtime,
    account_id: int,
    content_id: int,
    *,
    format_name: str = "auto",
    filename: str = "upload",
    password: str | None = None,
    upload: str | None = None,
) -> int:
    """Queue the import of an uploaded file (stored content of the account); return its id.

    A backup password is kept only wrapped by the master key, and removed when the job ends.
    """
    if format_name not in FORMATS:
        raise InvalidInput(f"unknown format {format_name!r}; use one of {', '.join(FORMATS)}")
    now = rt.clock.now_ms()
    with rt.db.write() as s:
        content.info(s, account_id, content_id)  # raises NotFound for another's content
        payload: dict[str, Any] = {
            "content_id": content_id,
            "format": format_name,
            "filename": Path(filename).name[:255] or "upload",
        }
        if upload:
            payload["upload"] = upload
        job_id = queue.enqueue(s, JOB_KIND, payload, now=now, account_id=account_id, max_attempts=3)
        if password is not None:
            key = rt.keyring.writer()
            wrapped = key.wrap(password.encode(), _password_context(job_id))
            payload["password"] = {"key": key.key_id, "wrapped": base64.b64encode(wrapped).decode()}
            queue.set_payload(s, job_id, payload)
    return job_id


def _password(rt: Runtime, job_id: int, payload: dict[str, Any]) -> str | None:
    sealed = payload.get("password")
    if not sealed:
        return None
    key = rt.keyring.get(str(sealed["key"]))
    return key.unwrap(base64.b64decode(sealed["wrapped"]), _password_context(job_id)).decode()


def _fetched(rt: Runtime, account_id: int, content_id: int, into: Path, name: str) -> Path:
    """The uploaded content as a file in ``into`` (streamed from the vault), unpacked if a zip."""
    with rt.db.read() as s:
        content.info(s, account_id, content_id)
        vault = vault_for(s, rt.store, rt.keyring, account_id)
        chunks = content.chunk_list(s, content_id)
    target = into / (name if name not in ("", ".", "..") else "upload")
    with target.open("wb") as f:
        for piece in content.read_range(vault, chunks):
            f.write(piece)
    if not zipfile.is_zipfile(target):
        return target
    folder = into / "unpacked"
    folder.mkdir()
    found = unpack_zip(target, folder, name)
    target.unlink()
    return found


def inputs_in(path: Path, format_name: str) -> list[Path]:
    """What to import from ``path``: itself if a reader takes it (or one is named), else each
    file inside that a reader recognises (a zipped folder of SMS Backup & Restore files)."""
    if format_name != "auto" or not path.is_dir():
        return [path]
    try:
        detect(path)
    except BadInput:
        pass
    else:
        return [path]
    found = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        try:
            detect(file)
        except BadInput:
            continue
        found.append(file)
    if not found:
        raise BadInput(f"{path.name}: holds nothing Strongroom can import")
    return found


def _shown(path: Path, work: Path) -> str:
    relative = path.relative_to(work)
    return str(relative.relative_to("unpacked")) if relative.parts[0] == "unpacked" else path.name


def import_job(ctx: JobContext) -> dict[str, Any]:
    """The ``import`` job: fetch the upload, import it, report progress as it goes."""
    rt, payload = ctx.runtime, ctx.payload
    account_id = ctx.job.account_id
    if account_id is None:
        raise InvalidInput("an import job needs an account")
    name = str(payload.get("filename") or "upload")
    last = [0.0]
    so_far = ImportReport()

    def progress(report: ImportReport) -> None:
        now = rt.clock.now_ms()
        if now - last[0] >= 1000:
            last[0] = now
            ctx.progress(**_progress_of(report))

    try:
        with _scratch(rt, "job-") as work:
            path = _fetched(rt, account_id, int(payload["content_id"]), work, name)
            format_name = str(payload.get("format", "auto"))
            paths = inputs_in(path, format_name)
            report = run_import(
                rt,
                account_id,
                paths,
                format_name,
                password=_password(rt, ctx.job.id, payload),
                progress=progress,
                source_names=[name if p == path else _shown(p, work) for p in paths],
                keep_going=False,
                report=so_far,
            )
    except Exception as e:
        if isinstance(e, InvalidInput) or ctx.job.attempts >= ctx.job.max_attempts:
            _forget_password(rt, ctx.job.id)  # no attempt will follow
        # what was stored before the failure stays stored: say so
        ctx.progress(**_progress_of(so_far), problem_list=so_far.problem_list)
        raise
    _forget_password(rt, ctx.job.id)
    if payload.get("upload"):
        from strongroom.locker import uploads  # noqa: PLC0415 - the command line never needs it

        with rt.db.write() as s:
            uploads.release(s, account_id, str(payload["upload"]))  # its bytes are imported
    ctx.progress(**_progress_of(report, done=True))
    return report.as_json()


def _forget_password(rt: Runtime, job_id: int) -> None:
    with rt.db.write() as s:
        job = queue.get_job(s, job_id)
        if "password" in (job.payload or {}):
            queue.set_payload(s, job_id, {k: v for k, v in job.payload.items() if k != "password"})


def _progress_of(report: ImportReport, *, done: bool = False) -> dict[str, Any]:
    fraction = 1.0 if done else None
    if not done and (so_far := report.done_of_total()):
        fraction = min(so_far[0] / so_far[1], 0.99)
    return {
        "fraction": fraction,
        "file": report.file,
        "bytes_read": report.bytes_read,
        "bytes_total": report.bytes_total,
        "records_read": report.records_read,
        "records_expected": report.records_expected,
        "messages": report.messages,
        "calls": report.calls,
        "imported": report.imported,
        "duplicates": report.duplicates,
        "skipped": report.skipped,
        "problems": report.problems,
    }


@dataclass(frozen=True)
class ImportStatus:
    id: int
    state: str  # queued, running, done, failed
    format: str
    filename: str
    created_at: int
    started_at: int | None
    finished_at: int | None
    progress: dict[str, Any]
    counts: dict[str, int]
    problems: list[dict[str, str]]
    error: str | None


def import_status(rt: Runtime, account_id: int, import_id: int) -> ImportStatus:
    """An import of the account's (raises NotFound for any other job, or another's)."""
    with rt.db.read() as s:
        try:
            job = queue.get_job(s, import_id, account_id)
        except NotFound:
            raise NotFound("no such import") from None
        if job.kind != JOB_KIND:
            raise NotFound("no such import")
        result = job.result or {}
        state = job.status
        if state == queue.QUEUED and job.error:
            state = "retrying"
        counts_from = result or job.progress or {}
        counts = {
            k: int(counts_from.get(k) or 0)
            for k in ("imported", "duplicates", "skipped", "problems", "messages", "calls")
        }
        return ImportStatus(
            id=job.id,
            state=state,
            format=str(job.payload.get("format", "auto")),
            filename=str(job.payload.get("filename", "")),
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            progress=dict(job.progress or {}),
            counts=counts,
            problems=list(result.get("problem_list") or counts_from.get("problem_list") or []),
            error=job.error,
        )


def imports_of(rt: Runtime, account_id: int, limit: int = 50) -> list[int]:
    """The account's latest imports, newest first."""
    with rt.db.read() as s:
        return list(
            s.scalars(
                select(Job.id)
                .where(Job.account_id == account_id, Job.kind == JOB_KIND)
                .order_by(Job.id.desc())
                .limit(limit)
            )
        )


__all__ = [
    "FORMATS",
    "ImportReport",
    "ImportStatus",
    "enqueue_import",
    "import_job",
    "import_status",
    "imports_of",
    "run_import",
    "unpack_zip",
]
