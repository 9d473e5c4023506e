"""A local HTTP server for ingestion tests: serves generated images, broken files, redirects and
errors from a dict, on 127.0.0.1 (reachable under the name localhost too).

Extras for the fetcher's tests: HTTPS with a trustme certificate (``ImageServer(certificate=
ca.issue_cert("photos.test"))``, the TLS server names clients sent land in ``server_names``),
every request's headers in ``request_headers``, routes answered one byte at a time
(``drip()``), and bodies framed by chunked encoding or by closing the connection instead of a
Content-Length (give the route a ``Transfer-Encoding: chunked`` or ``Connection: close``
header)."""

import contextlib
import ssl
import threading
import time
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ImageServer:
    def __init__(self, certificate=None):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[str] = []
        self.request_headers: list[Message] = []
        self.server_names: list[str | None] = []  # TLS SNI of each handshake
        self.drips: dict[str, float] = {}  # path -> seconds between the bytes of the body
        self.delay = 0.0  # seconds before each answer, to make a batch take a while
        self.scheme = "https" if certificate else "http"
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                server.request_headers.append(self.headers)
                time.sleep(server.delay)
                status, headers, body = server.routes.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                framing = {"Transfer-Encoding": "chunked", "Connection": "close"}
                framed = any(headers.get(key) == value for key, value in framing.items())
                if not framed and "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                # The client may have hung up (a refused or cut-off download): no traceback.
                with contextlib.suppress(OSError):
                    self.end_headers()
                    self.write_body(headers, body)

            def write_body(self, headers, body):
                if headers.get("Transfer-Encoding") == "chunked":
                    for start in range(0, len(body), 1000):
                        chunk = body[start : start + 1000]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.write(b"0\r\n\r\n")
                elif self.path in server.drips:
                    for index in range(len(body)):
                        self.wfile.write(body[index : index + 1])
                        self.wfile.flush()
                        time.sleep(server.drips[self.path])
                else:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def finish_request(self, request, client_address):
                if context is None:
                    return super().finish_request(request, client_address)
                try:  # the handshake in the request's thread, not the accepting one
                    request = context.wrap_socket(request, server_side=True)
                except OSError:
                    return  # e.g. the client refused the certificate
                with request:
                    super().finish_request(request, client_address)

        context = None
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            certificate.configure_cert(context)
            context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str, host: str = "localhost") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def image(self, path: str, content: bytes, content_type: str = "image/jpeg") -> str:
        self.routes[path] = (200, {"Content-Type": content_type}, content)
        return self.url(path)

    def redirect(self, path: str, location: str) -> str:
        self.routes[path] = (302, {"Location": location}, b"")
        return self.url(path)

    def drip(self, path: str, content: bytes, interval: float) -> str:
        """Serve ``content`` (with its Content-Length) one byte every ``interval`` seconds."""
        self.drips[path] = interval
        return self.image(path, content)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
