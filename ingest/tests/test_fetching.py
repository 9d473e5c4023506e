"""ingest.fetching: the URL fetcher connects to exactly the address it checked (SSRF), follows
redirects by the same rules, and keeps to its size and time limits. Against local servers only:
host names are answered by resolve() stubs, so nothing here needs DNS."""

import ipaddress
import socket
import time

import pytest
import trustme

from ingest import fetching
from ingest.fetching import download, is_public
from ingest.pipeline import StopPipeline, TransientStepError
from ingest.urls import UnsafeURL, parse_photo_url
from tests.image_server import ImageServer

PHOTO = b"\xff\xd8\xff\xe0 a photo, as far as the fetcher cares"


class Resolver:
    """A resolve() stub: ``answers[host]`` is one list of IPs, or a list of them to give in turn
    (the last one repeats). Records its calls; unknown names fail the test."""

    def __init__(self, answers: dict):
        self.answers, self.calls = answers, []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        answer = self.answers[host]
        if isinstance(answer[0], list):
            return answer[min(len(self.calls), len(answer)) - 1]
        return answer


def no_dns(host, port):
    raise AssertionError(f"{host} should not have been looked up")


@pytest.fixture
def local():
    return Resolver({"localhost": ["127.0.0.1"]})


@pytest.fixture(scope="module")
def _shared_server():
    with ImageServer() as server:
        yield server


@pytest.fixture
def image_server(_shared_server, settings):
    """Like the repo's image_server fixture (localhost allowed, 127.0.0.1 not), but one server
    for the module, emptied for each test: starting and stopping one per test is slow."""
    settings.PHOTO_FETCH_ALLOWED_HOSTS = ["localhost"]
    server = _shared_server
    for record in (server.routes, server.requests, server.request_headers, server.drips):
        record.clear()
    server.delay = 0.0
    return server


# ---- 1. URLs that parsers read differently are refused before any connection ---------------

SMUGGLED = [
    "http://127.0.0.1:{port}\\@localhost/x.jpg",  # urlsplit: localhost; urllib3: 127.0.0.1
    "http://127.0.0.1:{port}\\@93.184.215.14/x.jpg",
    "http://127.0.0.1:{port}@93.184.215.14/x.jpg",
    "http://user@localhost:{port}/x.jpg",
    "http://:@localhost:{port}/x.jpg",
    "http://localhost:{port}@evil.example/x.jpg",
    "http://localhost:{port}:{port}/x.jpg",
    "http://%6cocalhost:{port}/x.jpg",
    "http://local\thost:{port}/x.jpg",
    "http://localhost:{port}/x .jpg",
    "http://localhost:{port}/x.jpg\x00",
]
# Not sendable in a Location header (a header ends at a newline, loses its outer whitespace,
# and is Latin-1), so only tried directly.
SMUGGLED_DIRECT_ONLY = [
    "http://localhost:{port}/x.jpg\r\nX-Injected: 1",
    " http://localhost:{port}/x.jpg",
    "http://localhost:{port}/x.jpg\n",
    "http://localhost:{port}\u200b/x.jpg",
]


@pytest.mark.parametrize(
    "template, how",
    [(url, how) for url in SMUGGLED for how in ("direct", "redirect")]
    + [(url, "direct") for url in SMUGGLED_DIRECT_ONLY],
)
def test_ambiguous_urls_are_refused_and_never_requested(image_server, local, template, how):
    image_server.image("/x.jpg", PHOTO)
    url = template.format(port=image_server.port)
    if how == "redirect":  # from an allowed host
        url = image_server.redirect("/start", url)
    with pytest.raises(StopPipeline) as caught:
        download(url, resolve=local)
    assert caught.value.status == "rejected"
    assert image_server.requests == ([] if how == "direct" else ["/start"])


def test_the_backslash_trick_is_named_in_the_reason(image_server):
    url = f"http://127.0.0.1:{image_server.port}\\@localhost/x.jpg"
    with pytest.raises(StopPipeline, match="backslash"):
        download(url, resolve=no_dns)


# ---- 2. non-public addresses, however they are written ----------------------------------------

PRIVATE_HOSTS = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11",  # fullwidth 127.0.0.1
    "0.0.0.0",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",
    "224.0.0.1",
    "[::1]",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[::127.0.0.1]",
    "[fe80::1]",
    "[fc00::1]",
    "[ff02::1]",
    "[2002:7f00:1::1]",  # 6to4 around 127.0.0.1
    "[64:ff9b::a9fe:a9fe]",  # NAT64 around 169.254.169.254
]


@pytest.mark.parametrize("host", PRIVATE_HOSTS)
def test_non_public_addresses_are_refused(image_server, host):
    with pytest.raises(StopPipeline, match="SSRF"):
        download(f"http://{host}:{image_server.port}/x.jpg", resolve=no_dns)
    assert image_server.requests == []


@pytest.mark.parametrize("answer", [["10.0.0.7"], ["93.184.215.14", "10.0.0.7"], ["::1"]])
def test_a_name_is_refused_if_any_of_its_addresses_is_not_public(settings, answer):
    settings.PHOTO_FETCH_ALLOWED_HOSTS = []
    resolver = Resolver({"photos.example": answer})
    with pytest.raises(StopPipeline, match="SSRF"):
        download("https://photos.example/x.jpg", resolve=resolver)
    assert resolver.calls == [("photos.example", 443)]


def test_a_redirect_to_a_name_for_loopback_is_refused(image_server):
    resolver = Resolver({"localhost": ["127.0.0.1"], "inside.example": ["127.0.0.1"]})
    image_server.image("/x.jpg", PHOTO)
    start = image_server.redirect("/start", f"http://inside.example:{image_server.port}/x.jpg")
    with pytest.raises(StopPipeline, match="SSRF"):
        download(start, resolve=resolver)
    assert image_server.requests == ["/start"]


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("::ffff:93.184.215.14", True),
        ("64:ff9b::5db8:d70e", True),  # NAT64 around a public address
        ("2002:5db8:d70e::1", True),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo
        ("::7f00:1", False),
        ("198.51.100.1", False),
    ],
)
def test_is_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


# ---- 3. pinning: one lookup per hop, and the connection goes where it pointed ---------------


def test_the_checked_address_is_the_one_connected_to(image_server):
    rebinding = Resolver({"localhost": [["127.0.0.1"], ["10.255.255.1"]]})
    image_server.image("/x.jpg", PHOTO)
    result = download(image_server.url("/x.jpg"), resolve=rebinding)
    assert result.content == PHOTO
    assert rebinding.calls == [("localhost", image_server.port)]


def test_one_lookup_per_hop(image_server, local):
    image_server.redirect("/b", "/x.jpg")
    image_server.image("/x.jpg", PHOTO)
    result = download(image_server.redirect("/a", image_server.url("/b")), resolve=local)
    assert (result.content, result.redirects) == (PHOTO, 2)
    assert result.url == image_server.url("/x.jpg")
    assert local.calls == [("localhost", image_server.port)] * 3


def test_rebinding_to_loopback_after_the_check_never_reaches_it(image_server, monkeypatch):
    rebinding = Resolver({"rebind.example": [["93.184.215.14"], ["127.0.0.1"]]})
    connected = []

    def connect(sock, address):  # stands in for the internet: nothing answers
        connected.append(address[0])
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(fetching._DeadlineSocket, "connect", connect)
    with pytest.raises(TransientStepError):
        download(f"http://rebind.example:{image_server.port}/x.jpg", resolve=rebinding)
    assert connected == ["93.184.215.14"]
    assert rebinding.calls == [("rebind.example", image_server.port)]
    assert image_server.requests == []


# ---- 4. HTTPS: connect to the IP, but SNI, Host and certificate for the name ---------------


@pytest.fixture
def ca(tmp_path):
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    authority.path = str(tmp_path / "ca.pem")
    return authority


def test_https_to_a_pinned_address(settings, ca):
    settings.PHOTO_FETCH_ALLOWED_HOSTS = ["photos.test"]
    resolver = Resolver({"photos.test": ["127.0.0.1"]})
    with ImageServer(certificate=ca.issue_cert("photos.test")) as server:
        server.image("/x.jpg", PHOTO)
        url = server.url("/x.jpg", host="photos.test")
        result = download(url, resolve=resolver, ca_certs=ca.path)
    assert (result.content, result.url, result.content_type) == (PHOTO, url, "image/jpeg")
    assert server.request_headers[0]["Host"] == f"photos.test:{server.port}"
    assert server.server_names == ["photos.test"]


@pytest.mark.parametrize("name, trusted", [("other.test", True), ("photos.test", False)])
def test_https_with_a_certificate_for_another_name_or_from_an_unknown_ca(
    settings, ca, name, trusted
):
    """A bad certificate is Rejected: retrying would not fix it (documented choice)."""
    settings.PHOTO_FETCH_ALLOWED_HOSTS = ["photos.test"]
    with ImageServer(certificate=ca.issue_cert(name)) as server:
        server.image("/x.jpg", PHOTO)
        url = server.url("/x.jpg", host="photos.test")
        with pytest.raises(StopPipeline, match="certificate"):
            download(
                url,
                resolve=Resolver({"photos.test": ["127.0.0.1"]}),
                ca_certs=ca.path if trusted else None,
            )
    assert server.requests == []


# ---- 5. redirects, status codes, sizes -----------------------------------------------------


def test_request_headers(image_server, local):
    image_server.image("/x.jpg", PHOTO)
    download(image_server.url("/x.jpg"), resolve=local)
    headers = image_server.request_headers[0]
    assert headers["Host"] == f"localhost:{image_server.port}"
    assert headers["Accept"] == "image/*"
    assert headers["Accept-Encoding"] == "identity"
    assert headers["User-Agent"] == "CityVibes-ingest/1.0"


def test_each_redirect_hop_is_checked_again(image_server, local):
    image_server.image("/x.jpg", PHOTO)
    image_server.redirect("/b", f"http://127.0.0.1:{image_server.port}/x.jpg")
    with pytest.raises(StopPipeline, match="SSRF"):
        download(image_server.redirect("/a", "b"), resolve=local)  # a relative Location
    assert image_server.requests == ["/a", "/b"]


def test_a_location_in_utf8(image_server, local):
    image_server.image("/stra%C3%9Fe.jpg", PHOTO)
    # "/straße.jpg" as UTF-8 bytes on the wire (the test server writes headers as Latin-1)
    start = image_server.redirect("/a", "/stra\u00c3\u009fe.jpg")
    assert download(start, resolve=local).url == image_server.url("/stra%C3%9Fe.jpg")


def test_too_many_redirects(image_server, local, settings):
    settings.PHOTO_FETCH_MAX_REDIRECTS = 2
    for hop in range(3):
        image_server.redirect(f"/r{hop}", f"/r{hop + 1}")
    image_server.image("/r3", PHOTO)
    with pytest.raises(StopPipeline, match="More than 2 redirects"):
        download(image_server.url("/r0"), resolve=local)
    assert image_server.requests == ["/r0", "/r1", "/r2"]


def test_a_redirect_without_location(image_server, local):
    image_server.routes["/nowhere"] = (302, {}, b"")
    with pytest.raises(StopPipeline, match="without a Location"):
        download(image_server.url("/nowhere"), resolve=local)


@pytest.mark.parametrize(
    "status, error",
    [
        (404, StopPipeline),
        (403, StopPipeline),
        (503, TransientStepError),
        (429, TransientStepError),
    ],
)
def test_http_errors(image_server, local, status, error):
    image_server.routes["/x.jpg"] = (status, {}, b"no")
    with pytest.raises(error, match=f"HTTP {status}"):
        download(image_server.url("/x.jpg"), resolve=local)


def test_a_declared_size_over_the_limit_is_refused_before_reading(image_server, local, settings):
    settings.PHOTO_FETCH_MAX_BYTES = 1000
    image_server.routes["/big.jpg"] = (200, {"Content-Length": "50000000"}, b"x" * 10)
    with pytest.raises(StopPipeline, match="50,000,000 bytes"):
        download(image_server.url("/big.jpg"), resolve=local)


@pytest.mark.parametrize("framing", [{"Transfer-Encoding": "chunked"}, {"Connection": "close"}])
def test_an_undeclared_size_is_counted(image_server, local, settings, framing):
    settings.PHOTO_FETCH_MAX_BYTES = 1000
    image_server.routes["/big.jpg"] = (200, framing, b"x" * 5000)
    image_server.routes["/fits.jpg"] = (200, framing, b"x" * 1000)
    with pytest.raises(StopPipeline, match="over the 1,000 byte limit"):
        download(image_server.url("/big.jpg"), resolve=local)
    assert download(image_server.url("/fits.jpg"), resolve=local).content == b"x" * 1000


def test_an_empty_body(image_server, local):
    image_server.image("/empty.jpg", b"")
    with pytest.raises(StopPipeline, match="empty file"):
        download(image_server.url("/empty.jpg"), resolve=local)


def test_a_body_cut_short_is_transient(image_server, local):
    image_server.routes["/short.jpg"] = (200, {"Content-Length": "100"}, b"x" * 50)
    with pytest.raises(TransientStepError):
        download(image_server.url("/short.jpg"), resolve=local)


def test_a_refused_connection_is_transient(settings, local):
    settings.PHOTO_FETCH_ALLOWED_HOSTS = ["localhost"]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientStepError):
        download(f"http://localhost:{port}/x.jpg", resolve=local)


# ---- 6. time: one deadline for the whole download --------------------------------------------


def test_a_dripping_server_is_cut_off_at_the_deadline(image_server, local, settings):
    settings.PHOTO_FETCH_DEADLINE, settings.PHOTO_FETCH_TIMEOUT = 1, 5
    url = image_server.drip("/slow.jpg", b"x" * 100, interval=0.2)  # 20 s in all
    started = time.monotonic()
    with pytest.raises(StopPipeline, match=r"longer than 1 s \(deadline\)"):
        download(url, resolve=local)
    assert 0.9 < time.monotonic() - started < 4


def test_the_deadline_covers_waiting_for_headers(image_server, local, settings):
    settings.PHOTO_FETCH_DEADLINE, settings.PHOTO_FETCH_TIMEOUT = 1, 5
    image_server.delay = 3
    image_server.image("/x.jpg", PHOTO)
    started = time.monotonic()
    with pytest.raises(StopPipeline, match="deadline"):
        download(image_server.url("/x.jpg"), resolve=local)
    assert time.monotonic() - started < 2.5


def test_a_read_timeout_before_the_deadline_is_transient(image_server, local, settings):
    settings.PHOTO_FETCH_DEADLINE, settings.PHOTO_FETCH_TIMEOUT = 10, 0.3
    image_server.delay = 1
    image_server.image("/x.jpg", PHOTO)
    with pytest.raises(TransientStepError):
        download(image_server.url("/x.jpg"), resolve=local)


# ---- DNS ---------------------------------------------------------------------------------------


def test_resolve_host(monkeypatch):
    assert fetching.resolve_host("127.0.0.1", 80) == ["127.0.0.1"]
    for code, error in [(socket.EAI_AGAIN, TransientStepError), (socket.EAI_NONAME, StopPipeline)]:

        def fail(*args, code=code, **kwargs):
            raise socket.gaierror(code, "lookup failed")

        monkeypatch.setattr(socket, "getaddrinfo", fail)
        with pytest.raises(error, match=r"photos\.example"):
            fetching.resolve_host("photos.example", 443)


# ---- 7. parse_photo_url ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, scheme, host, port, target, normalised",
    [
        ("http://example.com", "http", "example.com", 80, "/", "http://example.com/"),
        ("HTTPS://Example.COM.:443/a", "https", "example.com", 443, "/a", "https://example.com/a"),
        (
            "https://B\u00fccher.example:8443/stra\u00dfe?q=\u00e4&x=1#top",
            "https",
            "xn--bcher-kva.example",
            8443,
            "/stra%C3%9Fe?q=%C3%A4&x=1",
            "https://xn--bcher-kva.example:8443/stra%C3%9Fe?q=%C3%A4&x=1",
        ),
        ("http://a.example/%41%zz?b=<%>", "http", "a.example", 80, "/%41%25zz?b=%3C%25%3E", None),
        ("http://a.example/p?q=/?x", "http", "a.example", 80, "/p?q=/?x", None),
        (
            "http://[2001:DB8::1]:8080/",
            "http",
            "2001:db8::1",
            8080,
            "/",
            "http://[2001:db8::1]:8080/",
        ),
        ("http://93.184.215.14:/x", "http", "93.184.215.14", 80, "/x", "http://93.184.215.14/x"),
    ],
)
def test_parse_photo_url(url, scheme, host, port, target, normalised):
    parsed = parse_photo_url(url)
    assert (parsed.scheme, parsed.host, parsed.port, parsed.target) == (scheme, host, port, target)
    if normalised:
        assert parsed.url == normalised
    assert parse_photo_url(parsed.url) == parsed  # stable


@pytest.mark.parametrize(
    "url, reason",
    [
        ("ftp://example.com/x.jpg", "http"),
        ("http:/example.com/x.jpg", "http"),
        ("http:///x.jpg", "no host"),
        ("http://example.com:0/", "out of range"),
        ("http://example.com:65536/", "out of range"),
        ("http://example.com:8o/", "ambiguous"),
        ("http://[::1/", "ambiguous"),
        ("http://[127.0.0.1]/", "not a valid host"),
        ("http://[fe80::1%25eth0]/", "percent"),
        ("http://exa_mple..com/", "not a valid host"),
        ("http://\u2603.example/", "international"),
        ("http://example.com/" + "a" * 2000, "longer than 2000"),
        ("http://user:pw@example.com/", "user name or password"),
    ],
)
def test_parse_photo_url_refuses(url, reason):
    with pytest.raises(UnsafeURL, match=reason):
        parse_photo_url(url)
