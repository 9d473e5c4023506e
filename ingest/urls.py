"""Photo URLs parsed once, strictly, with no DNS: what another URL parser could read differently
(backslashes, user names, ambiguous ports, odd IPv4 spellings, control characters) is refused, and
the request target is built from the parsed pieces. The fetcher (fetching.py) connects with
exactly what this returns."""

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

import idna

from photos.models import Photo

MAX_URL_LENGTH = Photo._meta.get_field("image_url").max_length
DEFAULT_PORTS = {"http": 80, "https": 443}
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^#]*)(?:#.*)?", re.DOTALL)
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_NUMERIC = re.compile(r"[0-9]+|0x[0-9a-f]*")  # a last label like this makes the host IPv4
_SAFE = "/:@!$&'()*+,;=-._~%"


class UnsafeURL(ValueError):
    """Why a URL will not be fetched, for a person."""


@dataclass(frozen=True)
class PhotoURL:
    """A URL parsed once: everything the connection needs, nothing left to interpret."""

    scheme: str
    host: str  # lower-case ASCII (IDNA), no trailing dot; IPv6 without brackets
    port: int
    target: str  # path and query, percent-encoded: the request line's target
    url: str  # normalised, without fragment

    @property
    def authority(self) -> str:
        """host[:port] as in the Host header (the port only when not the default)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def check_characters(text: str) -> None:
    """Refuse what parsers read differently (backslash) or silently drop (tab, newline)."""
    if len(text) > MAX_URL_LENGTH:
        raise UnsafeURL(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if "\\" in text:
        raise UnsafeURL("The URL contains a backslash: URL parsers disagree about it.")
    for char in text:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf"):
            raise UnsafeURL(f"The URL contains whitespace or a control character ({ord(char):#x}).")


def _host(text: str) -> str:
    """The canonical host; refuses escapes, bad names and IPv4 in odd spellings."""
    if not text:
        raise UnsafeURL("The URL has no host.")
    if "%" in text:
        raise UnsafeURL(f"The URL's host {text!r} contains a percent-escape.")
    if "[" in text or "]" in text:
        raise UnsafeURL(f"[{text}] is not a valid IPv6 address.")
    if ":" in text:  # an IPv6 literal inside brackets
        try:
            return str(ipaddress.IPv6Address(text))
        except ValueError:
            raise UnsafeURL(f"[{text}] is not a valid IPv6 address.") from None
    try:
        host = idna.encode(text, uts46=True).decode() if not text.isascii() else text
    except UnicodeError as error:
        raise UnsafeURL(f"{text!r} is not a valid international host name: {error}") from None
    labels = (host := host.lower().removesuffix(".")).split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UnsafeURL(f"{text!r} is not a valid host name.")
    if _NUMERIC.fullmatch(labels[-1]):
        try:  # only dotted quads: 0177.0.0.1, 0x7f.1, 2130706433 are not guessed at
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise UnsafeURL(f"{host}: an IPv4 address in an odd form (SSRF protection).") from None
    return host


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a photo's image URL, or None when it can: what this accepts is what
    ``download`` will fetch."""
    try:
        parse_photo_url(url)
    except UnsafeURL as problem:
        return str(problem)
    return None


def parse_photo_url(url: str) -> PhotoURL:
    """Parse strictly, without DNS: raise UnsafeURL for anything another parser could read
    differently (userinfo, backslashes, ambiguous ports...). The fragment is dropped."""
    check_characters(url)
    if not (match := _URL.fullmatch(url)) or match[1].lower() not in DEFAULT_PORTS:
        raise UnsafeURL("Only http:// and https:// URLs can be fetched.")
    scheme, authority, tail = match[1].lower(), match[2], match[3]
    if "@" in authority:
        raise UnsafeURL("The URL contains a user name or password (an @ before the host).")
    found = re.fullmatch(r"(\[[^\]]*\]|[^:\[\]]*)(?::([0-9]{0,5}))?", authority)
    port = int(found[2] or DEFAULT_PORTS[scheme]) if found else 0
    if not 0 < port < 65536:
        raise UnsafeURL(f"The URL's host and port are ambiguous or out of range: {authority!r}.")
    bracketed = (name := found[1]).startswith("[")
    if bracketed != (":" in (host := _host(name[1:-1] if bracketed else name))):
        raise UnsafeURL(f"{name!r} is not a valid host.")  # [IPv6] in brackets, and only IPv6
    path, question, query = tail.partition("?")
    target = _encode(path or "/") + question + _encode(query)
    authority = PhotoURL(scheme, host, port, target, "").authority
    return PhotoURL(scheme, host, port, target, f"{scheme}://{authority}{target}")


def _encode(text: str) -> str:
    """Percent-encode, keeping valid escapes (a lone % becomes %25)."""
    return quote(re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", text), safe=_SAFE + "?")
