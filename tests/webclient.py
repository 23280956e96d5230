"""A person's browser without the browser: cookies, CSRF tokens from the forms, no redirects followed
silently — for tests that talk to a real server over HTTP (the standard library only)."""

import http.cookiejar
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Response:
    def __init__(self, status: int, body: bytes, url: str, headers, started: float, ended: float):
        self.status, self.body, self.url, self.headers = status, body, url, headers
        self.started, self.ended = started, ended

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)


class WebClient:
    def __init__(self, base: str, timeout: float = 60):
        self.base, self.timeout = base.rstrip("/"), timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf = None

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None) -> Response:
        body = None
        headers = dict(headers or {})
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=self.timeout) as answer:
                response = Response(answer.status, answer.read(), answer.url, answer.headers, started, time.monotonic())
        except urllib.error.HTTPError as error:
            response = Response(error.code, error.read(), self.base + path, error.headers, started, time.monotonic())
        match = CSRF.search(response.text) if b"csrf_token" in response.body else None
        if match:
            self.csrf = match.group(1)
        return response

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs) -> Response:
        """A form post with the CSRF token of the last page seen (fetched from `path` first if none)."""
        if self.csrf is None:
            self.get(path if not path.endswith(("/enrol", "/done", "/start", "/finish")) else "/courses")
        return self.request("POST", path, data=dict(data or {}, csrf_token=self.csrf), **kwargs)

    def login(self, login: str, password: str) -> Response:
        self.get("/login")
        response = self.post("/login", {"login": login, "password": password})
        if "/login" in response.url:
            page = re.sub(r"<[^>]+>|\s+", " ", response.text)[:1500]
            raise AssertionError(f"could not log in as {login}: {response.status} {response.url}\n{page}")
        return response
