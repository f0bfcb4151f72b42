"""Who may talk to the server: a token on every request when one is set, and, always,
requests addressed to this server from pages of this server only.

A token rides on an ``Authorization: Bearer`` header, a ``?token=`` query parameter (media
elements and links cannot set headers) or the cookie the server sets when a ``?token=`` was
accepted, so that a browser opened once at ``http://host:8765/?token=...`` keeps working.

Without a token the server listens on loopback only, but a web page on another site could
still reach it through the browser (cross-site requests, DNS rebinding). So requests must name
a loopback host in ``Host``, and unsafe methods (POST: uploads, jobs, answers) are refused,
token or not, when a browser says they come from a page of another origin: an ``Origin`` that
is not this server (``Origin: null`` included: sandboxed frames, local files), or
``Sec-Fetch-Site: cross-site`` or ``same-site`` (another port of the same host is another
site's page too). Programs that send neither header (curl, scripts) are let through.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote, unquote, urlsplit

from vidseek.errors import VidseekError

__all__ = ["COOKIE", "BindError", "Guard", "check_bind", "is_loopback"]

COOKIE = "vidseek_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FOREIGN_SITES = frozenset({"cross-site", "same-site"})
"""``Sec-Fetch-Site`` values of requests made by another origin's page."""
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


class BindError(VidseekError, ValueError):
    """The server was asked to listen beyond this machine without a token."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine
    only."""
    host = host.strip().strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen on a non-loopback address without a token.

    Raises:
        BindError: ``host`` reaches beyond this machine and ``token`` is empty.
    """
    if not token and not is_loopback(host):
        raise BindError(
            f"refusing to listen on {host} without a token: anyone who can reach it could read "
            "and index files here. Pass --token SECRET (or set VIDSEEK_TOKEN), or bind "
            "127.0.0.1"
        )


class Guard:
    """ASGI middleware that enforces the rules in the module docstring.

    Args:
        app: the wrapped application.
        token: the secret every request must carry; None on a loopback-only server.
    """

    def __init__(self, app, token: str | None) -> None:
        self.app = app
        self.token = token or None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _send_json(send, *refusal)
            return
        if self.token is None or not self._from_query(scope):
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{COOKIE}={quote(self.token, safe='')}; Path=/; HttpOnly; SameSite=Strict"
                message["headers"] = [*message.get("headers", []),
                                      (b"set-cookie", cookie.encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _refusal(self, scope, headers: dict[str, str]) -> tuple[int, str, str] | None:
        """(status, error, detail) when the request must be refused, else None."""
        if self.token is not None:
            if not self._authorized(scope, headers):
                return (401, "unauthorized",
                        "this server needs its token: send 'Authorization: Bearer TOKEN', or "
                        "open the page once as /?token=TOKEN")
        elif not is_loopback(_host_name(headers.get("host", ""))):
            return (403, "forbidden_host",
                    "this server answers only requests addressed to localhost or 127.0.0.1; "
                    "to serve other hosts, start it with --token")
        if scope["method"] not in _SAFE_METHODS:
            page = _foreign_page(headers)
            if page is not None:
                return (403, "forbidden_origin",
                        f"requests from {page} may only read; use this server's own page, or "
                        "a program (curl, a script) that sends no Origin header")
        return None

    def _authorized(self, scope, headers: dict[str, str]) -> bool:
        given = []
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            given.append(value.strip())
        given.extend(self._query_tokens(scope))
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie header is just no token
            cookie = SimpleCookie()
        if COOKIE in cookie:
            given.append(unquote(cookie[COOKIE].value))
        return any(hmac.compare_digest(g.encode(), self.token.encode()) for g in given if g)

    def _from_query(self, scope) -> bool:
        return any(hmac.compare_digest(t.encode(), self.token.encode())
                   for t in self._query_tokens(scope))

    @staticmethod
    def _query_tokens(scope) -> list[str]:
        query = scope.get("query_string", b"").decode("latin-1")
        return parse_qs(query).get("token", [])


def _foreign_page(headers: dict[str, str]) -> str | None:
    """The page of another origin that a browser says sent the request, in words; None when
    it came from this server's own page, or not from a page."""
    origin = headers.get("origin", "").strip()
    if origin.lower() == "null":
        return "a page with no origin (Origin: null: a sandboxed frame or a local file)"
    if origin and urlsplit(origin).netloc.lower() != headers.get("host", "").lower():
        return f"pages of {origin}"
    site = headers.get("sec-fetch-site", "").strip().lower()
    if site in _FOREIGN_SITES:
        return f"a page of another site (Sec-Fetch-Site: {site})"
    return None


def _host_name(host: str) -> str:
    """The name in a Host header, without the port (``[::1]:8765`` -> ``::1``)."""
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def _send_json(send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="vidseek"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
