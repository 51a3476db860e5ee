"""capOS from Python: HTTP through the Fetch or HttpEndpoint capability this
process was granted (``capos run --fetch``, or a manifest's grant).

    import capos
    r = capos.fetch("http://127.0.0.1:8080/data.json")
    r.status, r.headers["content-type"], r.json()

Without a capability, ``fetch`` raises PermissionError saying so.

``capos.serve(handler)`` is the other direction: HTTP served on the listening
socket this process was given (``capos run --tcplisten``). A refusal
by the browser (CORS, a redirect an endpoint refuses) is a PermissionError
too; a network failure is ConnectionRefusedError; a timeout, TimeoutError.
"""

import json as _json

import _capos_http


class Response:
    """A response: ``status``, ``headers`` (names lower-cased), ``url``, and
    the body through ``read()``, ``text()``, ``json()`` (each reads the rest)."""

    def __init__(self, handle, status, head, url):
        self._handle = handle
        self.status = status
        self.url = url
        self.headers = {}
        for line in head.split("\n"):
            name, sep, value = line.partition(":")
            if sep:
                name = name.strip().lower()
                value = value.strip()
                self.headers[name] = self.headers[name] + ", " + value if name in self.headers else value
        self.ok = 200 <= status < 300

    def read(self, size=-1):
        parts = []
        want = size
        while want != 0:
            part = _capos_http.read(self._handle, 65536 if want < 0 else min(want, 65536))
            if not part:
                break
            parts.append(part)
            if want > 0:
                want -= len(part)
        return b"".join(parts)

    def text(self, encoding="utf-8"):
        return self.read().decode(encoding, errors="replace")

    def json(self):
        return _json.loads(self.read())

    def getcode(self):
        return self.status

    def close(self):
        _capos_http.close(self._handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<capos.Response {self.status} {self.url}>"


def fetch(url, method="GET", headers=None, body=None, timeout=0):
    """Sends a request and returns its Response once the head has arrived.
    ``body`` is bytes or str; ``timeout`` is in seconds (0: the default)."""
    if isinstance(body, str):
        body = body.encode()
    lines = "".join(f"{k}: {v}\n" for k, v in (headers or {}).items())
    handle, status, head = _capos_http.request(
        method.upper(), url, lines, body or b"", int(timeout * 1000)
    )
    return Response(handle, status, head, url)


def urlopen(url, data=None, timeout=0):
    """``urllib.request.urlopen``'s shape over ``fetch``: POST when ``data`` is given."""
    return fetch(url, method="POST" if data is not None else "GET", body=data, timeout=timeout)


class Request:
    """A request ``serve`` hands its handler: ``method``, ``path`` (with the
    query), ``headers`` (names lower-cased), ``body`` (bytes), ``text()``,
    ``json()``."""

    def __init__(self, method, path, head, body):
        self.method = method
        self.path = path
        self.body = body
        self.headers = {}
        for line in head.split("\n"):
            name, sep, value = line.partition(":")
            if sep:
                self.headers[name.strip().lower()] = value.strip()

    def text(self, encoding="utf-8"):
        return self.body.decode(encoding, errors="replace")

    def json(self):
        return _json.loads(self.body)


def serve(handler):
    """Serves HTTP on the listening socket this process was given (``capos
    run --tcplisten``, or a manifest's ``listen``), one request at a time,
    forever. ``handler(request)`` returns a str, bytes, ``(status, body)`` or
    ``(status, headers_dict, body)``; an exception becomes a 500 with its
    traceback. Without a listening socket, OSError (EBADF) says so."""
    import traceback

    while True:
        method, path, head, body = _capos_http.serve_next()
        request = Request(method, path, head, bytes(body))
        status, headers = 200, {}
        try:
            result = handler(request)
            if isinstance(result, tuple) and len(result) == 3:
                status, headers, result = result
            elif isinstance(result, tuple) and len(result) == 2:
                status, result = result
        except Exception:
            status, result = 500, traceback.format_exc()
        if isinstance(result, str):
            result = result.encode("utf-8")
        lines = [f"{name}: {value}" for name, value in headers.items()]
        if not any(line.lower().startswith("content-type:") for line in lines):
            lines.append("content-type: text/plain; charset=utf-8")
        _capos_http.serve_respond(int(status), "\n".join(lines), bytes(result))
