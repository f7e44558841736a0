"""The SQLite database holds the private signing keys (plain JWK without a key encryption secret)
and the password hashes: its files are created readable by their owner alone, whatever the umask."""

import logging
import os
import stat

import pytest

from jwtkit.storage.sql import open_sql_stores

pytestmark = pytest.mark.anyio


@pytest.fixture
def permissive_umask():
    old = os.umask(0o022)  # the common default that made the files 0644
    yield
    os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_a_new_database_and_its_wal_and_shm_files_are_owner_only(tmp_path, permissive_umask):
    stores = await open_sql_stores(f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}")
    try:
        await stores.keys.signing_keys()  # a connection is open: the -wal and -shm files exist
        files = {path.name: mode(path) for path in tmp_path.iterdir()}
    finally:
        await stores.close()
    assert set(files) >= {"auth.db", "auth.db-wal", "auth.db-shm"}
    assert files == dict.fromkeys(files, 0o600)


async def test_an_existing_database_that_others_can_read_is_reported_and_left_alone(tmp_path, caplog):
    path = tmp_path / "auth.db"
    path.touch()
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="jwtkit.storage.sql.engine"):
        stores = await open_sql_stores(f"sqlite+aiosqlite:///{path}")
        await stores.close()
    assert "readable by others" in caplog.text
    assert "chmod 600" in caplog.text
    assert mode(path) == 0o644


async def test_an_owner_only_database_opens_without_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="jwtkit.storage.sql.engine"):
        stores = await open_sql_stores(f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}")
        await stores.close()
        stores = await open_sql_stores(f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}")
        await stores.close()
    assert "readable by others" not in caplog.text
