"""The account lock and quota accounting, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from strongroom.accounts import usage
from tests.factories import make_user


def test_the_account_lock_is_taken_once_per_transaction_and_again_in_the_next(runtime):
    account_id = make_user(runtime)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        if "FROM accounts" in statement:
            statements.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", seen)
    try:
        with Session(runtime.db.engine) as s:  # one session, several transactions
            with s.begin():
                usage.lock_account(s, account_id)
                usage.lock_account(s, account_id)
            assert len(statements) == 1
            with s.begin():
                usage.lock_account(s, account_id)
            assert len(statements) == 2
            with s.begin():
                with s.begin_nested():
                    usage.lock_account(s, account_id)
                usage.lock_account(s, account_id)  # what a savepoint took is not counted on
            assert len(statements) == 4
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", seen)
