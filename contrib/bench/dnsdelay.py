#!/usr/bin/env python3
"""dnsdelay.py - a DNS forwarder that waits before forwarding: a resolver
that looks remote (for the benchmarks' DELAY mode).

SYNOPSIS
    dnsdelay.py LISTEN_ADDR LISTEN_PORT UPSTREAM_ADDR UPSTREAM_PORT DELAY_MS

DESCRIPTION
    Listens on UDP and TCP. Each query waits DELAY_MS milliseconds, then goes
    to the upstream (over the same transport, from a socket of its own), and
    its answer goes back to the client unchanged. Queries are handled
    concurrently (asyncio), so the delay is latency, not a queue. It parses
    nothing, so it passes whatever the client and upstream say. For loopback
    use only: no access control.

DIAGNOSTICS
    Prints "dnsdelay: ready" on stdout once both listeners are bound; exits
    on SIGTERM. A query whose upstream does not answer within 5 s is dropped.
"""
import asyncio
import signal
import socket
import struct
import sys

UPSTREAM_TIMEOUT = 5.0


class _Once(asyncio.DatagramProtocol):
    """one query to the upstream; resolves the future with its answer"""

    def __init__(self, query, fut):
        self.query, self.fut = query, fut

    def connection_made(self, transport):
        transport.sendto(self.query)

    def datagram_received(self, data, addr):
        if not self.fut.done():
            self.fut.set_result(data)

    def error_received(self, exc):
        if not self.fut.done():
            self.fut.set_exception(exc)


class _Listener(asyncio.DatagramProtocol):
    """the UDP listener: every datagram is one delayed forward"""

    def __init__(self, upstream, delay):
        self.upstream, self.delay, self.transport = upstream, delay, None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        asyncio.ensure_future(self.forward(data, addr))

    async def forward(self, data, addr):
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self.delay)
        fut = loop.create_future()
        tr, _ = await loop.create_datagram_endpoint(
            lambda: _Once(data, fut), remote_addr=self.upstream)
        try:
            answer = await asyncio.wait_for(fut, UPSTREAM_TIMEOUT)
            self.transport.sendto(answer, addr)
        except (asyncio.TimeoutError, OSError):
            pass
        finally:
            tr.close()


async def _tcp_client(reader, writer, upstream, delay):
    """one TCP connection: each length-prefixed query forwarded, delayed"""
    try:
        while True:
            head = await reader.readexactly(2)
            query = await reader.readexactly(struct.unpack("!H", head)[0])
            await asyncio.sleep(delay)
            ur, uw = await asyncio.open_connection(*upstream)
            uw.write(head + query)
            await uw.drain()
            uhead = await asyncio.wait_for(ur.readexactly(2), UPSTREAM_TIMEOUT)
            answer = await ur.readexactly(struct.unpack("!H", uhead)[0])
            uw.close()
            writer.write(uhead + answer)
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.TimeoutError, OSError):
        pass
    finally:
        writer.close()


async def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__.split("SYNOPSIS")[1].split("DESCRIPTION")[0])
    addr, port = sys.argv[1], int(sys.argv[2])
    upstream = (sys.argv[3], int(sys.argv[4]))
    delay = int(sys.argv[5]) / 1000.0
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(
        lambda: _Listener(upstream, delay), local_addr=(addr, port),
        family=socket.AF_INET)
    server = await asyncio.start_server(
        lambda r, w: _tcp_client(r, w, upstream, delay), addr, port)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    print("dnsdelay: ready", flush=True)
    await stop
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
