"""Static files for slow, paid networks: fingerprinted names served `immutable` for a year, precompressed.

At start-up every file of static/ that a page loads (styles, scripts, fonts, images) gets a copy named
after its content (`css/app.3f9c0d1e2a4b.css`) in build/static/, with gzip and brotli twins beside it.
CSS `url(...)` references are rewritten to the fingerprinted names first, so a font changes its
stylesheet's name too. `url_for('static', filename='css/app.css')` gives the fingerprinted URL, and
WhiteNoise serves those with `Cache-Control: max-age=31536000, immutable` and the encoding the browser
asks for: after the first visit a page costs one request. A file not in the manifest (the service
worker, which must be checked on every visit; a file added while the server runs) is still served
under its own name with a short cache time.

The build is content-addressed, so the processes of one server (gunicorn's workers, the runner) can do
it at the same time and a file that exists is already right; each file is written to a temporary
name and renamed into place.
"""

import hashlib
import os
import posixpath
import re
import tempfile
import urllib.parse
from pathlib import Path

from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from lms.core import inline_style

FINGERPRINTED = (".css", ".js", ".woff2", ".svg", ".png", ".webp", ".ico")
# Named by the browser or the service worker itself and so never renamed; also the offline fallback.
UNVERSIONED = {"sw.js"}
ONE_YEAR = 365 * 24 * 3600
_CSS_URL = re.compile(r"url\((['\"]?)(?!data:|https?:|/)([^'\")]+)\1\)")
_HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.\w+$")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _write_once(target: Path, data: bytes) -> None:
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, target)


def _hashed_name(name: str, data: bytes) -> str:
    stem, ext = posixpath.splitext(name)
    return f"{stem}.{_digest(data)}{ext}"


def _sources(static_dir: Path) -> list[str]:
    names = []
    for path in sorted(static_dir.rglob("*")):
        name = path.relative_to(static_dir).as_posix()
        if path.is_file() and path.suffix in FINGERPRINTED and name not in UNVERSIONED \
                and not name.startswith("fonts/source/"):
            names.append(name)
    # Stylesheets last: they point at the fonts and images, whose names must be known first.
    return sorted(names, key=lambda name: name.endswith(".css"))


def _rewrite_css(name: str, css: str, manifest: dict[str, str]) -> str:
    folder = posixpath.dirname(name)

    def replace(match):
        quote, reference = match.groups()
        path, _, suffix = reference.partition("#")
        target = posixpath.normpath(posixpath.join(folder, path))
        if target not in manifest:
            return match.group(0)
        hashed = posixpath.relpath(manifest[target], folder or ".")
        return f"url({quote}{hashed}{'#' + suffix if suffix else ''}{quote})"

    return _CSS_URL.sub(replace, css)


def build(static_dir: Path, out_dir: Path) -> dict[str, str]:
    """Write the fingerprinted (and compressed) copies; return {name: fingerprinted name}."""
    manifest: dict[str, str] = {}
    compressor = Compressor(quiet=True)
    for name in _sources(static_dir):
        data = (static_dir / name).read_bytes()
        if name.endswith(".css"):
            data = _rewrite_css(name, data.decode("utf-8"), manifest).encode("utf-8")
        hashed = _hashed_name(name, data)
        manifest[name] = hashed
        target = out_dir / hashed
        if target.exists():
            continue
        if compressor.should_compress(name):
            _write_once(Path(f"{target}.br"), compressor.compress_brotli(data))
            _write_once(Path(f"{target}.gz"), compressor.compress_gzip(data))
        _write_once(target, data)  # last: its presence means the twins are there
    return manifest


def _is_fingerprinted(_path: str, url: str) -> bool:
    return bool(_HASHED_NAME.search(url))


def init_app(app, root: str) -> None:
    """Serve static/ through WhiteNoise with fingerprinted names; `url_for('static', ...)` gives them."""
    static_dir = Path(app.static_folder)
    out_dir = Path(app.config.get("LMS_STATIC_BUILD_DIR") or Path(root) / "build" / "static")
    manifest = build(static_dir, out_dir)
    app.extensions["static_manifest"] = manifest
    # A first visit gets the stylesheet inline (one round trip fewer: lms/core/inline_style.py).
    css_name = manifest[inline_style.STYLESHEET]
    inline_style.init_app(app, (out_dir / css_name).read_text(encoding="utf-8"), css_name)
    # The icon is a few hundred bytes: inline, it saves every first visit a round trip.
    icon = (static_dir / "img" / "favicon.svg").read_text(encoding="utf-8")
    app.jinja_env.globals["favicon_href"] = "data:image/svg+xml," + urllib.parse.quote(icon.strip(), safe="=:/'")

    @app.url_defaults
    def _fingerprinted_static(endpoint, values):
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]

    whitenoise = WhiteNoise(app.wsgi_app, max_age=0, immutable_file_test=_is_fingerprinted)
    whitenoise.add_files(str(out_dir), prefix=app.static_url_path.strip("/") + "/")
    whitenoise.add_files(str(static_dir), prefix=app.static_url_path.strip("/") + "/")
    app.wsgi_app = whitenoise
