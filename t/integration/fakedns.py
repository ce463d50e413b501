#!/usr/bin/env python3
"""fakedns.py - a broken DNS server on loopback, for t/integration/faults.sh.

Usage: fakedns.py MODE PORTFILE

Listens on 127.0.0.1, one free port for UDP and TCP alike, writes the port
to PORTFILE once both sockets listen, and answers every query according to
MODE until killed:

  garbage    random bytes (0-600 of them); every other reply keeps the
             query's id so that the resolver has to parse the rest
  truncated  UDP: the query echoed with QR and TC set, no records (the
             client must retry over TCP); TCP: a length prefix promising
             more than follows, then the connection is closed
  oversized  a well-formed answer far larger than any buffer: 1,500 A
             records (A queries) or 250 TXT strings of 255 bytes (every
             other type), over UDP as one datagram (up to 65,000 bytes,
             no TC bit) and over TCP in full

Standard library only. Never sends anywhere but to the peer that asked.
"""
import os
import random
import socket
import struct
import sys
import threading

MODES = ("garbage", "truncated", "oversized")


def question_end(query):
    """Offset just past the question section (or len(query) if malformed)."""
    off = 12
    while off < len(query):
        n = query[off]
        if n == 0:
            return min(off + 5, len(query))
        if n & 0xC0:
            return min(off + 6, len(query))
        off += n + 1
    return len(query)


def answer_oversized(query, limit):
    """A valid-looking reply with far too many records, at most LIMIT bytes."""
    qend = question_end(query)
    qtype = struct.unpack("!H", query[qend - 4:qend - 2])[0] if qend >= 16 else 1
    if qtype == 1:
        rr = struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + bytes([198, 51, 100, 7])
        count = 1500
    else:
        txt = bytes([255]) + b"v" * 255
        rr = struct.pack("!HHHIH", 0xC00C, 16, 1, 300, len(txt)) + txt
        count = 250
    count = min(count, (limit - qend) // len(rr))
    header = query[:2] + struct.pack("!HHHHH", 0x8580, 1, count, 0, 0)
    return header + query[12:qend] + rr * count


def reply(mode, query, tcp):
    """The bytes to send back for QUERY (without the TCP length prefix)."""
    if len(query) < 12:
        return b""
    if mode == "garbage":
        junk = os.urandom(random.randint(0, 600))
        return query[:2] + junk if random.random() < 0.5 else junk
    if mode == "truncated":
        flags = struct.unpack("!H", query[2:4])[0] | 0x8200
        return query[:2] + struct.pack("!H", flags) + b"\0\1\0\0\0\0\0\0" + \
            query[12:question_end(query)]
    return answer_oversized(query, 65000)


def serve_udp(mode, sock):
    while True:
        query, peer = sock.recvfrom(4096)
        try:
            sock.sendto(reply(mode, query, False), peer)
        except OSError:
            pass


def serve_tcp_conn(mode, conn):
    with conn:
        try:
            head = conn.recv(2)
            if len(head) < 2:
                return
            want = struct.unpack("!H", head)[0]
            query = b""
            while len(query) < want:
                part = conn.recv(want - len(query))
                if not part:
                    return
                query += part
            data = reply(mode, query, True)
            if mode == "truncated":
                conn.sendall(struct.pack("!H", len(data) + 400) + data)
                return
            conn.sendall(struct.pack("!H", min(len(data), 65535)) + data[:65535])
        except OSError:
            pass


def serve_tcp(mode, sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_conn, args=(mode, conn), daemon=True).start()


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in MODES:
        sys.stderr.write("usage: fakedns.py garbage|truncated|oversized PORTFILE\n")
        return 2
    mode, portfile = sys.argv[1], sys.argv[2]
    for _ in range(50):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind(("127.0.0.1", port))
            break
        except OSError:
            udp.close()
            tcp.close()
    else:
        return 1
    tcp.listen(64)
    threading.Thread(target=serve_udp, args=(mode, udp), daemon=True).start()
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(portfile + ".tmp", portfile)
    serve_tcp(mode, tcp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
