"""Download a photo URL from exactly the address that was checked (SSRF protection).

Each hop is parsed once, strictly (no other URL parser gets a say), resolved once, every address
checked, and the TCP connection goes to a checked IP; the host name is only used for the Host
header, TLS SNI and the certificate check. http.client speaks HTTP over that socket: it has no
proxies, pools, retries or redirects to switch off. Every socket read waits at most
min(PHOTO_FETCH_TIMEOUT, time left), so a download ends by PHOTO_FETCH_DEADLINE, redirects
included, however slowly a server drips (DNS lookups excepted: getaddrinfo has no timeout)."""

import contextlib
import functools
import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import certifi
from django.conf import settings

from .pipeline import Rejected, TransientStepError
from .urls import PhotoURL, UnsafeURL, check_characters, parse_photo_url

REDIRECTS = {301, 302, 303, 307, 308}
HEADERS = {"User-Agent": "CityVibes-ingest/1.0", "Accept": "image/*", "Accept-Encoding": "identity"}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Download:
    url: str  # the final URL, after redirects
    redirects: int
    content: bytes
    content_type: str  # what the server said: informational only


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A globally routable unicast address; IPv4 wrapped in IPv6 (mapped, NAT64, 6to4, Teredo) is
    judged by the IPv4 inside, and reserved IPv6 is refused."""
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address in _NAT64:
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if not all(map(is_public, filter(None, [address.sixtofour, *(address.teredo or ())]))):
            return False
    return address.is_global and not address.is_multicast and not address.is_reserved


def resolve_host(host: str, port: int) -> list[str]:
    """The host's addresses (getaddrinfo, TCP)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        if error.errno == socket.EAI_AGAIN:
            raise TransientStepError(f"DNS lookup of {host} failed for now: {error}") from error
        raise Rejected(f"The host {host} does not resolve: {error}") from error
    return [info[4][0] for info in infos]


def _addresses(url: PhotoURL, resolve: Callable, allowed: set[str]) -> list[str]:
    """Resolve once (IP literals need no lookup) and check every address."""
    try:
        found = [ipaddress.ip_address(url.host)]
    except ValueError:
        found = [ipaddress.ip_address(ip) for ip in dict.fromkeys(resolve(url.host, url.port))]
    if not found:
        raise Rejected(f"The host {url.host} does not resolve.")
    unsafe = [address for address in found if not is_public(address)]
    if unsafe and url.host not in allowed:
        raise Rejected(
            f"{url.host} resolves to {unsafe[0]}, a loopback, private, link-local or reserved "
            "address: not fetched (SSRF protection)."
        )
    return [str(address) for address in found]


@dataclass
class _Clock:
    end: float  # time.monotonic() of the deadline
    per_read: float

    def timeout(self) -> float:
        """The timeout for the next blocking socket call."""
        if (left := self.end - time.monotonic()) <= 0:
            raise TimeoutError("deadline reached")
        return min(self.per_read, left)


class _DeadlineReads:
    """Each read's timeout comes from the clock: dripping bytes, in the headers or the body,
    cannot keep a download going past the deadline."""

    __slots__ = ()

    def recv_into(self, *args, **kwargs):
        if getattr(self, "clock", None) is not None:
            self.settimeout(self.clock.timeout())
        return super().recv_into(*args, **kwargs)


class _DeadlineSocket(_DeadlineReads, socket.socket):
    pass


class _DeadlineSSLSocket(_DeadlineReads, ssl.SSLSocket):
    pass


@functools.cache
def _tls_context(cafile: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cafile)  # checks the chain and the host name
    context.sslsocket_class = _DeadlineSSLSocket
    return context


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP(S) for ``url`` over a socket to a checked IP; the host name is never looked up again."""

    def __init__(self, url: PhotoURL, ips: list[str], clock: _Clock, cafile: str):
        super().__init__(ips[0], url.port)
        self._url, self._ips, self._clock, self._cafile = url, ips, clock, cafile

    def connect(self):
        for ip in self._ips:  # all of them checked: the first that answers
            sock = _DeadlineSocket(socket.AF_INET6 if ":" in ip else socket.AF_INET)
            try:
                sock.settimeout(self._clock.timeout())
                sock.connect((ip, self._url.port))
                break
            except OSError:
                sock.close()
                if ip == self._ips[-1]:
                    raise
        self.sock, sock.clock = sock, self._clock
        if self._url.scheme == "https":
            sock.settimeout(self._clock.timeout())  # for the whole handshake
            context = _tls_context(self._cafile)
            self.sock = context.wrap_socket(sock, server_hostname=self._url.host)
            self.sock.clock = self._clock

    def get(self) -> http.client.HTTPResponse:
        self.putrequest("GET", self._url.target, skip_host=True, skip_accept_encoding=True)
        for name, value in {"Host": self._url.authority, **HEADERS, "Connection": "close"}.items():
            self.putheader(name, value)
        self.endheaders()
        return self.getresponse()


def _body(response: http.client.HTTPResponse, limit: int) -> bytes:
    """Read what arrives (read1 does not wait to fill a buffer), counting real bytes."""
    if response.length is not None and response.length > limit:  # Content-Length, not chunked
        raise Rejected(f"The file is {response.length:,} bytes, over the {limit:,} limit.")
    content = bytearray()
    while chunk := response.read1(64 * 1024):
        content += chunk
        if len(content) > limit:
            raise Rejected(f"The file is over the {limit:,} byte limit.")
    if response.length:  # closed before Content-Length bytes came
        raise http.client.IncompleteRead(bytes(content), response.length)
    if not content:
        raise Rejected("The server sent an empty file.")
    return bytes(content)


def _follow(current: PhotoURL, location: str | None) -> PhotoURL:
    """A redirect's target: resolved against the current URL, parsed as strictly."""
    if not location:
        raise Rejected("The server redirected without a Location.")
    with contextlib.suppress(UnicodeError):  # http.client reads headers as Latin-1, not UTF-8
        location = location.encode("latin-1").decode()
    try:
        check_characters(location)  # before urljoin, which drops tabs and newlines
        return parse_photo_url(urljoin(current.url, location))
    except UnsafeURL as error:
        raise Rejected(f"Redirect not followed: {error}") from error


def download(
    url: str,
    *,
    resolve: Callable[[str, int], list[str]] = resolve_host,
    ca_certs: str | None = None,
) -> Download:
    """GET a photo. Raises Rejected (bad or unsafe URL, HTTP 4xx, too big, deadline, invalid TLS
    certificate: retrying would not help) or TransientStepError (DNS or network trouble,
    HTTP 5xx/408/429). ``resolve(host, port) -> [ip, ...]`` is called once per hop."""
    limit, deadline = settings.PHOTO_FETCH_MAX_BYTES, settings.PHOTO_FETCH_DEADLINE
    clock = _Clock(time.monotonic() + deadline, settings.PHOTO_FETCH_TIMEOUT)
    allowed = {h.lower().removesuffix(".").strip("[]") for h in settings.PHOTO_FETCH_ALLOWED_HOSTS}
    try:
        current = parse_photo_url(url)
    except UnsafeURL as error:
        raise Rejected(f"Not fetched: {error}") from error
    for redirects in range(settings.PHOTO_FETCH_MAX_REDIRECTS + 1):
        connection = response = None
        try:
            connection = _PinnedConnection(
                current, _addresses(current, resolve, allowed), clock, ca_certs or certifi.where()
            )
            response = connection.get()
            status = response.status
            if status in REDIRECTS:
                current = _follow(current, response.getheader("Location"))
                continue
            if status >= 500 or status in (408, 429):
                raise TransientStepError(f"The server answered HTTP {status}.")
            if status != 200:
                raise Rejected(f"The server answered HTTP {status}.")
            content = _body(response, limit)
            content_type = response.getheader("Content-Type", "").split(";")[0].strip().lower()
            return Download(current.url, redirects, content, content_type)
        except ssl.SSLCertVerificationError as error:
            raise Rejected(f"Invalid TLS certificate for {current.host}: {error}") from error
        except (OSError, http.client.HTTPException) as error:
            if time.monotonic() >= clock.end:
                raise Rejected(
                    f"The download took longer than {deadline:g} s (deadline): cut off at "
                    f"{current.url[:200]}."
                ) from error
            raise TransientStepError(f"Could not download {current.url[:200]}: {error}") from error
        finally:
            for thing in (response, connection):
                if thing is not None:
                    thing.close()
    raise Rejected(f"More than {settings.PHOTO_FETCH_MAX_REDIRECTS} redirects.")
