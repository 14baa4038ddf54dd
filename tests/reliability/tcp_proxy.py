"""A TCP proxy process: `python -m tests.reliability.tcp_proxy LISTEN_PORT HOST:PORT`.

It stands between the API and PostgreSQL in the database-outage test. Killing it is the
network going away: open connections are reset and new ones refused, until it is started again
on the same port. It stops by itself after an hour, so a lost one cannot run on forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

LIFETIME_SECONDS = 3600


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy bytes from `reader` to `writer` until either side ends; then close `writer`."""
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def serve(listen: int, host: str, port: int) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.open_connection(host, port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(pipe(client_r, upstream_w), pipe(upstream_r, client_w))

    server = await asyncio.start_server(handle, "127.0.0.1", listen, reuse_address=True)
    async with server:
        await asyncio.sleep(LIFETIME_SECONDS)


def main() -> None:
    listen, upstream = int(sys.argv[1]), sys.argv[2]
    host, _, port = upstream.rpartition(":")
    asyncio.run(serve(listen, host, int(port)))


if __name__ == "__main__":
    main()
