"""Response headers and early answers that the routes never see.

* :class:`SecurityHeaders` (pure ASGI, wrapped around the whole application, error pages
  included): ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
  ``X-Frame-Options: DENY`` on every response, and a ``Content-Security-Policy`` on every
  response that has none: :data:`PAGE_CSP` for HTML (scripts, styles and connections to this
  server only, no inline code), :data:`API_CSP` for everything else (nothing may load).
* :class:`ProblemCORSMiddleware`: Starlette's CORS middleware, except that a refused preflight
  is answered with a problem document (``cors_refused``, 400) instead of ``text/plain``.
* :func:`problem_h11_protocol`: uvicorn's HTTP/1.1 protocol, except that a request it cannot
  parse (an invalid ``Content-Length``, a malformed request line or header) is answered with a
  problem document (``request_malformed``, 400) instead of ``text/plain``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from api.errors import PROBLEM_JSON, ApiError, Code, dumps, problem_response

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Policy of HTML pages (the plan viewer): everything from this server, no inline script or
#: style, no frames, no forms posting elsewhere. The viewer keeps an API key in localStorage,
#: so no script from anywhere else may ever run on this origin.
PAGE_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

#: Policy of every other response (JSON, problem documents): nothing may load or frame it.
API_CSP = "default-src 'none'; frame-ancestors 'none'"

#: Headers set on every response (unless a route set them already).
SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def add_security_headers(headers: MutableHeaders) -> None:
    """Add :data:`SECURITY_HEADERS` and a Content-Security-Policy where missing."""
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value
    if "content-security-policy" not in headers:
        html = headers.get("content-type", "").lower().startswith("text/html")
        headers["Content-Security-Policy"] = PAGE_CSP if html else API_CSP


class SecurityHeaders:
    """Pure ASGI middleware: the security headers on every HTTP response.

    Args:
        app: the wrapped ASGI application (the whole middleware stack, so that the answers of
            Starlette's own error middleware get the headers too).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request, adding the headers to the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, with_headers)


class ProblemCORSMiddleware(CORSMiddleware):
    """CORS for the listed origins; a refused preflight answers ``cors_refused`` (problem+json)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        """Answer a preflight as Starlette does, but a refusal as a problem document."""
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        refused = bytes(answer.body).decode("utf-8", "replace").removeprefix("Disallowed CORS ") or "request"
        detail = (
            f"The cross-origin (CORS) preflight was refused (not allowed: {refused}). "
            "Browser origins are allowed by the server's FLOWOPT_CORS_ORIGINS; methods GET and POST; "
            "headers Content-Type, X-API-Key, Idempotency-Key and Prefer."
        )
        response = problem_response(ApiError(Code.cors_refused, detail))
        for name in ("vary", "access-control-allow-methods", "access-control-max-age", "access-control-allow-headers"):
            if name in answer.headers:
                response.headers[name] = answer.headers[name]
        return response


def problem_h11_protocol() -> type:
    """Return uvicorn's h11 protocol class answering unparsable requests with problem+json.

    uvicorn answers a request it cannot parse (h11 refuses it before the application runs:
    ``Content-Length: 1_0``, a header without a colon, a bad request line) with a bare
    ``text/plain`` 400. This subclass sends the ``request_malformed`` problem document with the
    security headers instead. Imported lazily: only ``flowopt serve`` needs uvicorn.
    """
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class ProblemH11Protocol(H11Protocol):  # type: ignore[misc]
        def send_400_response(self, msg: str) -> None:
            err = ApiError(Code.request_malformed, f"The HTTP request could not be parsed ({msg.rstrip('.')}); nothing was done. Check the request line and headers (Content-Length must be a decimal number of bytes).")
            body = dumps(err.document())
            headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
            headers += [(k.lower().encode(), v.encode()) for k, v in {**SECURITY_HEADERS, "Content-Security-Policy": API_CSP}.items()]
            for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"), h11.Data(data=body), h11.EndOfMessage()):
                self.transport.write(self.conn.send(event))
            self.transport.close()

    return ProblemH11Protocol
