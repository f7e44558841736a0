"""``RespGet``, the session reads' lean Redis client: against the real Redis (db 15, a fresh key
prefix per test) for what Redis answers, and against a scripted fake server on loopback for what a
real one will not do on demand (hang, drop a connection, speak garbage, split a reply)."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from jwtkit.storage.redis.resp import RespGet, RespReplyError

pytestmark = pytest.mark.anyio

Script = Callable[[int, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class FakeRedis:
    """A loopback server that runs ``script(connection_number, reader, writer)`` per connection
    and records every command it parsed (``commands``)."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self.connections = 0
        self.commands: list[list[bytes]] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> "FakeRedis":
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def command(self, reader: asyncio.StreamReader) -> list[bytes]:
        """Read one command (a RESP array of bulk strings) and record it."""
        count = int((await reader.readline())[1:])
        args = []
        for _ in range(count):
            size = int((await reader.readline())[1:])
            args.append((await reader.readexactly(size + 2))[:-2])
        self.commands.append(args)
        return args

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self._script(self.connections, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def resp(redis_url):
    reader = RespGet.from_url(redis_url, timeout=2.0)
    assert reader is not None
    yield reader
    await reader.close()


async def test_get_answers_the_value_at_a_key_and_none_for_a_missing_key(resp, redis, prefix):
    await redis.set(f"{prefix}k", b"\x00value\r\n\xff")

    assert await resp.get(f"{prefix}k".encode()) == b"\x00value\r\n\xff"
    assert await resp.get(f"{prefix}missing".encode()) is None


async def test_concurrent_gets_on_the_one_connection_each_get_their_own_reply(resp, redis, prefix):
    for i in range(50):
        await redis.set(f"{prefix}{i}", str(i) * (i + 1))

    replies = await asyncio.gather(*(resp.get(f"{prefix}{i}".encode()) for i in range(50)))

    assert replies == [(str(i) * (i + 1)).encode() for i in range(50)]


async def test_an_error_reply_raises_resp_reply_error_and_the_connection_stays_usable(resp, redis, prefix):
    await redis.sadd(f"{prefix}set", "member")
    await redis.set(f"{prefix}k", "v")

    with pytest.raises(RespReplyError, match="WRONGTYPE"):
        await resp.get(f"{prefix}set".encode())
    assert await resp.get(f"{prefix}k".encode()) == b"v"


async def test_a_caller_cancelled_while_waiting_does_not_shift_the_replies_of_the_next(resp, redis, prefix):
    await redis.set(f"{prefix}a", "A")
    await redis.set(f"{prefix}b", "B")

    first = asyncio.ensure_future(resp.get(f"{prefix}a".encode()))
    await asyncio.sleep(0)  # sent, waiting for its reply
    first.cancel()

    assert await resp.get(f"{prefix}b".encode()) == b"B"


async def test_the_url_s_credentials_and_database_are_sent_before_the_first_command():
    async def script(_: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            args = await fake.command(reader)
            writer.write(b"$-1\r\n" if args[0] == b"GET" else b"+OK\r\n")

    async with FakeRedis(script) as fake:
        client = RespGet.from_url(f"redis://alice:s3cret@127.0.0.1:{fake.port}/3", timeout=2.0)
        assert client is not None
        assert await client.get(b"k") is None
        await client.close()

    assert fake.commands == [[b"AUTH", b"alice", b"s3cret"], [b"SELECT", b"3"], [b"GET", b"k"]]


async def test_refused_credentials_are_an_error_reply_and_no_command_is_sent():
    async def script(_: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await fake.command(reader)
        writer.write(b"-WRONGPASS invalid username-password pair\r\n")
        await reader.read()

    async with FakeRedis(script) as fake:
        client = RespGet.from_url(f"redis://:wrong@127.0.0.1:{fake.port}/0", timeout=2.0)
        assert client is not None
        with pytest.raises(RespReplyError, match="WRONGPASS"):
            await client.get(b"k")
        await client.close()

    assert fake.commands == [[b"AUTH", b"wrong"]]


async def test_a_reply_arriving_in_pieces_is_put_together():
    async def script(_: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await fake.command(reader)
        for piece in (b"$11\r", b"\nhello", b" world\r", b"\n"):
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.01)
        await reader.read()

    async with FakeRedis(script) as fake:
        client = RespGet("127.0.0.1", fake.port, timeout=2.0)
        assert await client.get(b"k") == b"hello world"
        await client.close()


async def test_a_connection_the_server_dropped_is_retried_once_on_a_fresh_one():
    async def script(number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await fake.command(reader)
        if number == 1:
            return  # closes without answering
        writer.write(b"$2\r\nok\r\n")
        await reader.read()

    async with FakeRedis(script) as fake:
        client = RespGet("127.0.0.1", fake.port, timeout=2.0)
        assert await client.get(b"k") == b"ok"
        await client.close()

    assert fake.connections == 2


async def test_a_server_that_does_not_answer_times_out_and_its_connection_is_replaced():
    async def script(_: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers

    async with FakeRedis(script) as fake:
        client = RespGet("127.0.0.1", fake.port, timeout=0.2)
        for _ in range(2):
            with pytest.raises(TimeoutError):
                await client.get(b"k")
        await client.close()

    assert fake.connections == 2


async def test_each_command_gets_its_own_time_to_answer_not_the_time_left_to_an_earlier_one():
    async def script(_: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await fake.command(reader)
            await asyncio.sleep(0.2)
            writer.write(b"$2\r\nok\r\n")

    async with FakeRedis(script) as fake:
        client = RespGet("127.0.0.1", fake.port, timeout=0.3)
        # the second is sent at ~0.2 s: still waiting when the first one's deadline (0.3 s) passes
        assert [await client.get(b"k1"), await client.get(b"k2")] == [b"ok", b"ok"]
        await client.close()

    assert fake.connections == 1


async def test_a_reply_that_is_not_resp_closes_the_connection_as_a_connection_error():
    async def script(_: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await fake.command(reader)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n")
        await reader.read()

    async with FakeRedis(script) as fake:
        client = RespGet("127.0.0.1", fake.port, timeout=2.0)
        with pytest.raises(ConnectionError):
            await client.get(b"k")
        await client.close()


async def test_nothing_listening_is_a_connection_error():
    async with FakeRedis(lambda *_: asyncio.sleep(0)) as fake:
        port = fake.port
    client = RespGet("127.0.0.1", port, timeout=2.0)

    with pytest.raises(ConnectionError):
        await client.get(b"k")


async def test_a_closed_client_refuses_further_commands(resp):
    await resp.close()

    with pytest.raises(ConnectionError):
        await resp.get(b"k")


@pytest.mark.parametrize("url", ["rediss://127.0.0.1:6379/0", "unix:///tmp/redis.sock?db=1"])
def test_tls_and_unix_socket_urls_are_left_to_redis_py(url):
    assert RespGet.from_url(url) is None
