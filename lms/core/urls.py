from urllib.parse import urljoin, urlparse

from flask import request

from lms.core.inputs import has_control_characters


def is_safe_next(target: str | None) -> bool:
    """Only same-site paths: no scheme, no host, no `//evil` or `\\evil` tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if has_control_characters(target):  # CR/LF would split the Location header; a tab hides "//"
        return False
    joined = urlparse(urljoin(request.host_url, target))
    return joined.scheme in {"http", "https"} and joined.netloc == urlparse(request.host_url).netloc
