"""Scrubbing the blob store: what is missing, what is damaged, what nobody owns.

Each domain that keeps blob ids has a :data:`ReferenceSource` in :data:`REFERENCE_SOURCES`: a
function yielding ``(blob_id, stored_size or None)`` for one account (the content store's is
listed here, so the scrub needs nothing else imported first).  Without ``read_data``
the scrub checks presence and, where the size is known, size; with it, every blob is read,
decrypted and its id recomputed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from strongroom.accounts.keys import vault_key
from strongroom.accounts.models import AccountKey
from strongroom.blobs import BlobCorrupt, BlobNotFound, Vault
from strongroom.blobs.vault import Placement
from strongroom.content.reclaim import packed_chunks, referenced_blobs
from strongroom.runtime import Runtime

ReferenceSource = Callable[[Session, int], Iterable[tuple[str, int | None]]]
REFERENCE_SOURCES: list[ReferenceSource] = [referenced_blobs]
PackSource = Callable[[Session, int], dict[str, list[tuple[str, Placement]]]]
PACK_SOURCES: list[PackSource] = [packed_chunks]
"""Which of the referenced objects are packs, and the blobs in each: ``read_data`` checks those
blobs one by one (a pack is not one blob)."""


@dataclass
class Damage:
    name: str
    reason: str


@dataclass
class VerifyReport:
    accounts: int = 0
    blobs: int = 0
    bytes: int = 0
    missing: list[Damage] = field(default_factory=list)
    corrupt: list[Damage] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.corrupt


def verify_store(
    rt: Runtime, *, read_data: bool, progress: Callable[[int], None] | None = None
) -> VerifyReport:
    report = VerifyReport()
    with rt.db.read() as s:
        accounts = s.execute(select(AccountKey.account_id, AccountKey.namespace)).all()
    known_namespaces = {ns for _, ns in accounts}
    for account_id, namespace in accounts:
        with rt.db.read() as s:
            vault = Vault(rt.store, vault_key(s, rt.keyring, account_id))
            referenced: dict[str, int | None] = {}
            for source in REFERENCE_SOURCES:
                referenced.update(source(s, account_id))
            packs: dict[str, list[tuple[str, Placement]]] = {}
            for pack_source in PACK_SOURCES:
                packs.update(pack_source(s, account_id))
        _verify_namespace(rt, vault, namespace, referenced, packs, report, read_data, progress)
        report.accounts += 1
    for info in rt.store.list():
        if info.name.split("/", 1)[0] not in known_namespaces:
            report.orphans.append(info.name)
    return report


def _verify_namespace(
    rt: Runtime,
    vault: Vault,
    namespace: str,
    referenced: dict[str, int | None],
    packs: dict[str, list[tuple[str, Placement]]],
    report: VerifyReport,
    read_data: bool,
    progress: Callable[[int], None] | None,
) -> None:
    stored = {info.name.split("/", 1)[1]: info.size for info in rt.store.list(namespace + "/")}
    for blob_id in sorted(set(referenced) - set(stored)):
        report.missing.append(Damage(f"{namespace}/{blob_id}", "referenced but not stored"))
    for blob_id, size in stored.items():
        name = f"{namespace}/{blob_id}"
        expected = referenced.get(blob_id)
        report.blobs += 1
        report.bytes += size
        if expected is not None and expected != size:
            report.corrupt.append(Damage(name, f"{size} bytes stored, {expected} expected"))
        elif read_data:
            try:
                if blob_id in packs:
                    for packed, at in packs[blob_id]:
                        vault.verify(packed, at)
                else:
                    vault.verify(blob_id)
            except BlobCorrupt as e:
                report.corrupt.append(Damage(name, e.detail))
            except BlobNotFound:
                report.missing.append(Damage(name, "disappeared while verifying"))
        if progress is not None:
            progress(report.blobs)
