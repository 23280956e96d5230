"""Markdown → sanitised HTML, the one renderer for lessons, descriptions and quizzes.

Python-Markdown renders; nh3 (an allowlist sanitiser) then removes anything executable:
scripts, event handlers, `javascript:`/`data:` URLs and iframes from hosts not allowed.
Bump RENDERER_VERSION whenever the output for the same source can change, so stored HTML
is re-rendered.
"""

import functools
import re
import xml.etree.ElementTree as etree
from urllib.parse import urlparse

import markdown as md
import nh3
from flask import current_app, has_app_context
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import escape

# 2: audio/video files written with image syntax become HTML5 players.
RENDERER_VERSION = 2
AUDIO_EXTENSIONS = (".mp3", ".ogg", ".oga", ".wav", ".m4a")
VIDEO_EXTENSIONS = (".mp4", ".webm", ".ogv")

EXTENSIONS = [
    "tables",
    "fenced_code",
    "footnotes",
    "admonition",
    "toc",
    "attr_list",
    "def_list",
    "sane_lists",
]

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul", "audio", "video", "source", "track", "iframe",
}
_COMMON = {"id", "class", "title", "lang", "dir"}
ALLOWED_ATTRIBUTES = {
    "*": _COMMON,
    "a": _COMMON | {"href", "hreflang"},
    "img": _COMMON | {"src", "alt", "width", "height", "loading"},
    "td": _COMMON | {"colspan", "rowspan", "align"},
    "th": _COMMON | {"colspan", "rowspan", "align", "scope"},
    "ol": _COMMON | {"start", "type"},
    "audio": _COMMON | {"src", "controls", "preload"},
    "video": _COMMON | {"src", "controls", "preload", "poster", "width", "height"},
    "source": {"src", "type"},
    "track": {"src", "kind", "srclang", "label", "default"},
    "iframe": _COMMON | {"src", "width", "height", "allowfullscreen"},
}
ALLOWED_SCHEMES = {"http", "https", "mailto", "tel"}


def _iframe_hosts() -> set[str]:
    """Hosts that lessons may embed in an iframe (LMS_IFRAME_HOSTS); none outside an app."""
    if has_app_context():
        return set(current_app.config.get("LMS_IFRAME_HOSTS", ()))
    return set()


def _filter_attribute(element, attribute, value, hosts=None):
    if element == "iframe" and attribute == "src":
        parsed = urlparse(value)
        if parsed.scheme != "https" or parsed.hostname not in (_iframe_hosts() if hosts is None else hosts):
            return None
    return value


# An iframe whose src was refused is left empty by nh3: drop it rather than show a blank box.
_EMPTY_IFRAME = re.compile(r"<iframe\b(?![^>]*\ssrc=)[^>]*>.*?</iframe>", re.S)


def sanitise(html: str) -> str:
    # Pages sanitise stored HTML on every view (lms.core.templating.sanitised); the same lesson body is
    # cleaned again and again. The result depends only on the text and the allowed iframe hosts, so it is
    # memoised on exactly those: an edited lesson is a different string, hence a fresh clean (no
    # invalidation to get wrong, and the same on every host).
    return _sanitise_memo(html, frozenset(_iframe_hosts()))


@functools.lru_cache(maxsize=256)  # lesson bodies are a few KB: a few MB at most
def _sanitise_memo(html: str, hosts: frozenset) -> str:
    return _EMPTY_IFRAME.sub("", _clean(html, hosts))


def _clean(html: str, hosts: frozenset | None = None) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        attribute_filter=functools.partial(_filter_attribute, hosts=hosts),
        link_rel="noopener noreferrer",
    )


class _LinkRewriter(Treeprocessor):
    def __init__(self, md_instance, resolve):
        super().__init__(md_instance)
        self.resolve = resolve

    def run(self, root):
        for element in root.iter():
            for attribute in ("src", "href", "poster"):
                value = element.get(attribute)
                if value and not urlparse(value).scheme and not value.startswith(("/", "#")):
                    element.set(attribute, self.resolve(value))


class _MediaPlayers(Treeprocessor):
    """`![Bài nghe](../assets/a.mp3)` → an <audio controls> player (same for video), with a
    download link inside for browsers that cannot play the file."""

    def run(self, root):
        for element in root.iter("img"):
            src = element.get("src") or ""
            path = urlparse(src).path.lower()
            kind = "audio" if path.endswith(AUDIO_EXTENSIONS) else "video" if path.endswith(VIDEO_EXTENSIONS) else None
            if kind is None:
                continue
            label = element.get("alt") or src.rsplit("/", 1)[-1]
            title = element.get("title")
            element.clear()
            element.tag = kind
            element.set("src", src)
            element.set("controls", "controls")
            element.set("preload", "metadata")
            if title:
                element.set("title", title)
            fallback = etree.SubElement(element, "a", href=src)
            fallback.text = label


class _Media(Extension):
    def extendMarkdown(self, md_instance):
        # After link rewriting (priority 0) so players get the served URL.
        md_instance.treeprocessors.register(_MediaPlayers(md_instance), "lms_media", -1)


class _LinkRewriting(Extension):
    """Resolves relative links (course assets) to the URLs the app serves them at."""

    def __init__(self, resolve):
        super().__init__()
        self.resolve = resolve

    def extendMarkdown(self, md_instance):
        md_instance.treeprocessors.register(_LinkRewriter(md_instance, self.resolve), "lms_links", 0)


def render(source: str, resolve_link=None) -> str:
    """Render author Markdown to HTML that is safe to insert in a page.

    `resolve_link(relative_url) -> url` maps links such as `../assets/a.png` to served URLs.
    """
    extensions = [*EXTENSIONS, _Media()]
    source = expand_library_references(source or "")
    if resolve_link is not None:
        extensions.append(_LinkRewriting(resolve_link))
    html = md.markdown(source or "", extensions=extensions, output_format="html")
    return sanitise(html)


# Lessons point at e-library items by slug (docs/course-format.md): `[[library:slug]]` or
# `[[library:slug|label]]` is a link; `![[library:slug]]` alone on a line embeds the item (a player for
# video/audio with its captions, the picture for an image, a card otherwise).
_LIBRARY_EMBED = re.compile(r"^!\[\[library:([a-z0-9][a-z0-9-]*)\]\][ \t]*$", re.M)
_LIBRARY_LINK = re.compile(r"\[\[library:([a-z0-9][a-z0-9-]*)(?:\|([^\]\n]*))?\]\]")


def _library_lookup(slug: str) -> dict | None:
    """The item's title and kind, from the library feature when an app is there (None otherwise)."""
    if not has_app_context():
        return None
    lookup = current_app.extensions.get("lms_library_lookup")
    return lookup(slug) if lookup else None


def _embed_html(slug: str) -> str:
    item = _library_lookup(slug) or {}
    href = f"/library/{slug}"
    title = escape(item.get("title") or slug)
    caption = f'<figcaption><a href="{href}">{title}</a></figcaption>'
    kind = item.get("kind")
    if kind in ("video", "audio"):
        track = (f'<track kind="captions" src="{href}/captions" srclang="vi" label="Phụ đề" default>'
                 if item.get("captions") else "")
        return (f'<figure class="library-embed"><{kind} src="{href}/file" controls preload="metadata">{track}'
                f'<a href="{href}/file">{title}</a></{kind}>{caption}</figure>')
    if item.get("image"):
        return f'<figure class="library-embed"><img src="{href}/file" alt="{title}">{caption}</figure>'
    summary = f"<p>{escape(item['summary'])}</p>" if item.get("summary") else ""
    return f'<figure class="library-embed library-card">{caption}{summary}</figure>'


def _link_markdown(match) -> str:
    slug, label = match.group(1), (match.group(2) or "").strip()
    if not label:
        label = (_library_lookup(slug) or {}).get("title") or slug
    label = label.replace("[", "(").replace("]", ")")
    return f"[{label}](/library/{slug})"


def expand_library_references(source: str) -> str:
    if "[[library:" not in source:
        return source
    source = _LIBRARY_EMBED.sub(lambda m: "\n" + _embed_html(m.group(1)) + "\n", source)
    return _LIBRARY_LINK.sub(_link_markdown, source)


def render_inline(source: str) -> str:
    """Render a one-line fragment (question option, heading) without the wrapping <p>."""
    html = render(source).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html
