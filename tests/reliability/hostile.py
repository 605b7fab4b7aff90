"""A hostile HTTP server on loopback: each test scripts what the server does with a request
(trickle, flood, a gzip bomb, odd JSON, odd headers, echo the request back)."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from collections.abc import Callable

Handler = Callable[[socket.socket, bytes], None]


def answer(status: int = 200, body: bytes = b"{}", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {"Content-Type": "application/json"}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def json_answer(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    def handle(conn: socket.socket, request: bytes) -> None:
        conn.sendall(answer(status, text.encode(), headers))

    return handle


def trickle(head: bytes = b"", every: float = 0.2, forever: bytes = b" ") -> Handler:
    """Send ``head``, then one byte every ``every`` seconds until the client goes away."""

    def handle(conn: socket.socket, request: bytes) -> None:
        conn.sendall(head)
        while True:
            time.sleep(every)
            conn.sendall(forever)

    return handle


def gzip_bomb(expanded: int) -> Handler:
    body = gzip.compress(b" " * expanded, compresslevel=9)

    def handle(conn: socket.socket, request: bytes) -> None:
        conn.sendall(
            answer(200, body, {"Content-Type": "application/json", "Content-Encoding": "gzip"})
        )

    return handle


def flood(total: int, chunk: int = 1 << 20) -> Handler:
    """A 200 answer of ``total`` bytes, chunked transfer: no Content-Length to refuse early."""

    def handle(conn: socket.socket, request: bytes) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        piece = b"[" + b"1," * (chunk // 2 - 1)
        sent = 0
        while sent < total:
            conn.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sent += len(piece)
            piece = b"1," * (chunk // 2)
        conn.sendall(b"0\r\n\r\n")

    return handle


def echo(status: int = 400, as_json: bool = True) -> Handler:
    """Answer with the whole request (headers and body) quoted back, as some error pages do."""

    def handle(conn: socket.socket, request: bytes) -> None:
        text = request.decode("latin-1").replace("\\", "\\\\").replace('"', "'")
        text = text.replace("\r", " ").replace("\n", " ")
        body = f'{{"code": -1, "msg": "bad request: {text}"}}' if as_json else text
        conn.sendall(answer(status, body.encode()))

    return handle


class HostileServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._conns: list[socket.socket] = []
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped = True
        with contextlib.suppress(OSError):
            self._sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                request = _read_request(conn)
                if request is None:
                    return
                self.requests.append(request)
                self.handler(conn, request)


def _read_request(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body
