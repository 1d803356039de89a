"""The network link between a primary and its replicas, as a process we can partition.

Replicas connect to this relay instead of to the primary. ``SIGSTOP`` on the relay is a clean partition: bytes
the primary sends pile up in the relay's socket buffers and never reach a replica, while primary and replicas
stay up and keep serving their own clients. (Pausing a replica instead would not do: its kernel still receives
the stream, and the replica applies it on ``SIGCONT``.) Standard library only, because it runs as a script:
``python linkproxy.py TARGET_PORT PORT_FILE``; it listens on a free loopback port and writes that port to
``PORT_FILE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

CHUNK = 64 * 1024


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def _relay(target_port: int, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
    try:
        upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_w.close()
        return
    await asyncio.gather(_pump(client_r, upstream_w), _pump(upstream_r, client_w))


async def serve(target_port: int, port_file: Path) -> None:
    server = await asyncio.start_server(lambda r, w: _relay(target_port, r, w), host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(port))
    tmp.replace(port_file)  # the harness never reads half a number
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> None:
    target_port, port_file = int(argv[0]), Path(argv[1])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(target_port, port_file))


if __name__ == "__main__":
    main(sys.argv[1:])
