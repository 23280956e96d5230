"""A new simulation made in the browser editor: a lesson of kind "simulation" with a one-step example
to replace (the editor then edits it as its `.sim.md` file)."""

import json

from lms.authoring.operations import add_lesson
from lms.catalog.rendering import record_revision, render_lesson

EXAMPLE = """---
title: {title}
minutes: 5
app: Ứng dụng mô phỏng
---
Lời giới thiệu: bài luyện tập này giúp người học làm quen với … (mọi dữ liệu đều là giả định).

## Màn hình đầu tiên
Nội dung màn hình mô phỏng.
action: tap
- [x] Nút đúng
- [ ] Nút sai
  > Vì sao nút này sai.
hint: Gợi ý hiện sau một lần chọn sai.
> Vì sao đây là thao tác đúng.
"""


def add_simulation(module, title: str, author):
    lesson = add_lesson(module, title, author)
    lesson.kind = "simulation"
    # JSON quoting keeps any title valid YAML (quotes, colons) — JSON strings are YAML strings.
    lesson.body_md = EXAMPLE.format(title=json.dumps(title.strip(), ensure_ascii=False))
    render_lesson(lesson)
    record_revision(lesson, origin="browser", author=author)
    return lesson
