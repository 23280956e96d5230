"""The one way the application POSTs JSON to an outside service (SMS gateway, results receiver).

Only the standard library: a gateway inside the province's network needs nothing more. A network
error or a non-2xx answer raises `error_class` (an OSError), which the outbox retries with backoff.
"""

import json
import urllib.error
import urllib.request


def post_json(url: str, body: dict, *, token: str = "", timeout: float = 10, headers: dict | None = None,
              error_class: type[OSError] = OSError) -> int:
    """POST `body` as JSON (with `Authorization: Bearer token` when given); the 2xx status, or raise."""
    if not url.lower().startswith(("http://", "https://")):  # never file:, ftp: or a custom scheme
        raise error_class("unreachable: the address is not http(s)")
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        # Http(s) checked above: bandit's B310 does not apply.
        with urllib.request.urlopen(request, timeout=float(timeout)) as response:  # nosec B310
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        raise error_class(f"unreachable: {type(error).__name__}") from None
    if not 200 <= status < 300:
        raise error_class(f"answered HTTP {status}")
    return status
