"""Account data keys: created with the account, wrapped by the master key, rewrapped on rotation.

# Race: a process that loaded the keyring before a rotation began may create a data key wrapped
# by the old master key while the rotation runs.  Both sides take the ``master_key_id`` row of
# ``server_meta`` (creators share it, the rotation's last step updates it), and the last step
# only commits when no key is left under the old master key; otherwise it goes round again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from strongroom.accounts.models import AccountKey
from strongroom.blobs import BlobStore, Vault, VaultKey
from strongroom.blobs.keys import Keyring, MasterKey
from strongroom.db import Database
from strongroom.errors import NotFound
from strongroom.runtime import ServerMeta
from strongroom.types import Millis


def _current_master(session: Session, keyring: Keyring) -> MasterKey:
    meta = session.scalar(
        select(ServerMeta).where(ServerMeta.key == "master_key_id").with_for_update(read=True)
    )
    assert meta is not None, "runtime.open_runtime records the master key id"
    if keyring.incoming is not None:
        return keyring.incoming  # during a rotation, new keys go straight under the new key
    return keyring.get(meta.value)


def create_account_key(session: Session, keyring: Keyring, account_id: int, now: Millis) -> None:
    master = _current_master(session, keyring)
    namespace = secrets.token_hex(8)
    data_key = secrets.token_bytes(32)
    session.add(
        AccountKey(
            account_id=account_id,
            namespace=namespace,
            wrapped=master.wrap(data_key, namespace),
            master_key_id=master.key_id,
            created_at=now,
        )
    )


def vault_key(session: Session, keyring: Keyring, account_id: int) -> VaultKey:
    """The account's unwrapped data key.  Raises NotFound, MasterKeyError."""
    row = session.get(AccountKey, account_id)
    if row is None:
        raise NotFound("the account has no data key")
    data_key = keyring.get(row.master_key_id).unwrap(row.wrapped, row.namespace)
    return VaultKey(data_key, row.namespace)


def vault_for(session: Session, store: BlobStore, keyring: Keyring, account_id: int) -> Vault:
    return Vault(store, vault_key(session, keyring, account_id))


def namespace_of(session: Session, account_id: int) -> str | None:
    return session.scalar(select(AccountKey.namespace).where(AccountKey.account_id == account_id))


class _KeysLeft(Exception):
    """Rolls back the final step of a rotation that found keys under the old master key."""


@dataclass(frozen=True)
class RotationReport:
    old_key_id: str
    new_key_id: str
    rewrapped: int


def rotate_master_key(db: Database, keyring: Keyring, *, batch: int = 500) -> RotationReport:
    """Replace the master key: rewrap every data key, then retire the old key file.

    Safe to interrupt at any point and to run again: it resumes with the same incoming key.
    """
    assert keyring.current is not None
    old_id = keyring.current.key_id
    incoming = keyring.begin_rotation()
    rewrapped = 0
    while True:
        with db.write() as s:
            rows = s.scalars(
                select(AccountKey).where(AccountKey.master_key_id != incoming.key_id).limit(batch)
            ).all()
            for row in rows:
                data_key = keyring.get(row.master_key_id).unwrap(row.wrapped, row.namespace)
                row.wrapped = incoming.wrap(data_key, row.namespace)
                row.master_key_id = incoming.key_id
            rewrapped += len(rows)
        if rows:
            continue
        try:
            with db.write() as s:
                meta = s.scalar(
                    select(ServerMeta).where(ServerMeta.key == "master_key_id").with_for_update()
                )
                assert meta is not None
                meta.value = incoming.key_id
                left = s.scalar(
                    select(func.count())
                    .select_from(AccountKey)
                    .where(AccountKey.master_key_id != incoming.key_id)
                )
                if left:
                    raise _KeysLeft  # one was created under the old key meanwhile: go round
        except _KeysLeft:
            continue
        break
    keyring.finish_rotation()
    return RotationReport(old_id, incoming.key_id, rewrapped)
