"""Static files: fingerprinted URLs served immutable and precompressed; pages compressed."""

import re

from flask import url_for


def test_static_urls_are_fingerprinted_and_immutable(app, client):
    with app.test_request_context():
        css = url_for("static", filename="css/app.css")
    assert re.fullmatch(r"/static/css/app\.[0-9a-f]{12}\.css", css)
    response = client.get(css, headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["Content-Encoding"] == "br"
    gzip = client.get(css, headers={"Accept-Encoding": "gzip"})
    assert gzip.headers["Content-Encoding"] == "gzip"


def test_stylesheet_points_at_fingerprinted_fonts(app, client):
    with app.test_request_context():
        css = client.get(url_for("static", filename="css/app.css")).get_data(as_text=True)
    fonts = re.findall(r"url\(([^)]+\.woff2)\)", css)
    assert fonts and all(re.search(r"be-vietnam-pro-vi-\d00\.[0-9a-f]{12}\.woff2$", font) for font in fonts)
    for font in fonts:
        assert client.get("/static/" + font.replace("../", "")).status_code == 200


def test_unfingerprinted_names_are_revalidated(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers["Cache-Control"]


def test_pages_are_compressed(client):
    response = client.get("/courses", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
