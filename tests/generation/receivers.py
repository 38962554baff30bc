"""Real HTTP webhook receivers on loopback for the webhook tests (no mocks: deliveries go over a socket)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Answers POSTs with queued status codes (200 once they run out) and records ``(headers, body)`` of each.

    ``redirect_to``: answer ``302 Location: <url>`` instead. ``tls``: serve HTTPS with this server SSLContext.
    ``hold``: keep each request unanswered until ``release()`` (or ``hold_seconds``), to stand in for a slow
    customer endpoint. ``on_request(path)`` runs in the handler thread while the sender waits for the answer.
    """

    def __init__(self, statuses=(), *, redirect_to=None, hold=False, hold_seconds=120.0, on_request=None, tls=None):
        self.statuses = list(statuses)
        self.server_names: list[str | None] = []  # SNI of each TLS handshake (``tls``: a server SSLContext)
        self.requests: list[tuple[dict, bytes]] = []
        self.paths: list[str] = []
        self.answered = 0
        self.released = threading.Event()
        if not hold:
            self.released.set()
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with lock:
                    receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    receiver.paths.append(self.path)
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                if on_request is not None:
                    on_request(self.path)
                receiver.released.wait(hold_seconds)
                if redirect_to:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                else:
                    self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with lock:
                    receiver.answered += 1

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            tls.sni_callback = lambda sock, name, context: receiver.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
