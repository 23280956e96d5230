"""The base layout's cached parts (lms/core/layout.py): rendered once per language and menu, they must
never show one person's menu, or one language, to another."""

import re


def menu_text(response) -> str:
    """The visible text of the page's menu, whitespace collapsed."""
    html = response.get_data(as_text=True)
    menu = html[html.index('<details class="site-menu">'):html.index("</header>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", menu)).strip()


def test_each_person_sees_their_own_menu_and_language_though_parts_are_cached(client, create_user, login):
    # A visitor first: the visitor's menu (log in, register) is now cached in Vietnamese.
    visitor = menu_text(client.get("/courses"))
    assert "Đăng nhập" in visitor and "Khóa học" in visitor and "Nhật ký kiểm toán" not in visitor

    learner = create_user("Trần Thị Học")
    login(learner)
    page = menu_text(client.get("/courses"))
    assert "Trần Thị Học" in page and "Đăng nhập" not in page and "Nhật ký kiểm toán" not in page
    client.post("/logout")

    admin = create_user("Lê Quản Trị", roles=("admin",))
    login(admin)
    page = menu_text(client.get("/courses"))
    assert "Lê Quản Trị" in page and "Nhật ký kiểm toán" in page and "Trần Thị Học" not in page

    client.post("/language", data={"lang": "en"})
    page = menu_text(client.get("/courses"))
    assert "Audit log" in page and "Courses" in page and "Khóa học" not in page
    html = client.get("/courses").get_data(as_text=True)
    assert 'value="en" lang="en" title=' in html and 'aria-pressed="true">EN</button>' in html
    client.post("/logout")

    login(learner)  # the learner again, after the admin's menu was cached: no admin links
    page = menu_text(client.get("/courses"))
    assert "Nhật ký kiểm toán" not in page and "Audit log" not in page and "Trần Thị Học" in page


def test_the_text_size_buttons_follow_the_choice(client):
    client.post("/text-size", data={"size": "large"})
    html = client.get("/courses").get_data(as_text=True)
    assert 'class="size-large"\n                aria-pressed="true"' in html
    assert 'class="size-normal"\n                aria-pressed="false"' in html
