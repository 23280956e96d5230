"""`|sanitised` cleans what it shows, whoever wrote the stored HTML."""

from flask import render_template_string

from lms.core.markdown import render


def test_the_filter_removes_script_that_a_writer_stored(app):
    stored = '<p onclick="steal()">Bài <b>một</b></p><script>steal()</script><a href="javascript:steal()">x</a>'
    with app.test_request_context():
        shown = render_template_string("{{ html|sanitised }}", html=stored)
    assert "<b>một</b>" in shown and "Bài" in shown
    assert "script" not in shown and "onclick" not in shown and "javascript:" not in shown


def test_rendered_html_passes_unchanged(app):
    html = render("# Tiêu đề\n\nĐoạn *một* với [liên kết](https://example.vn) và `mã`.\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    with app.test_request_context():
        assert render_template_string("{{ html|sanitised }}", html=html) == html
        assert render_template_string("{{ none|sanitised }}", none=None) == ""
