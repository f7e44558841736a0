"""The row mappings every SQL store shares: a row of ``USER_COLUMNS`` (an ``sqlite3`` tuple, an
SQLAlchemy ``Row``, an asyncpg ``Record``) read into a ``UserRecord``."""

from jwtkit.storage.sql.store import USER_COLUMNS, user_record


def test_user_record_reads_each_of_the_user_columns_into_its_field():
    row = tuple(f"value of {name}" for name in USER_COLUMNS)
    record = user_record(row)
    assert {name: getattr(record, name) for name in USER_COLUMNS} == {name: f"value of {name}" for name in USER_COLUMNS}


def test_user_record_ignores_the_columns_after_the_user_columns():
    row = (7, "alice", "hash", None, 1.5, "the caller's column")
    record = user_record(row)
    assert (record.id, record.username, record.password_hash, record.disabled_at, record.last_login_at) == \
        (7, "alice", "hash", None, 1.5)
