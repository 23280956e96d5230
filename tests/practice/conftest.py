"""A copy of the fixture mini-course with a three-step practice simulation added to its first module."""

import pytest

from tests.catalog.conftest import course_copy, english  # noqa: F401 - the same fixtures as the catalogue tests

SIMULATION = """---
title: Kích hoạt tài khoản (luyện tập)
minutes: 5
app: Ứng dụng định danh (mô phỏng)
---
Bạn sẽ **luyện** ba bước.

## Đăng nhập
Màn hình chính của ứng dụng.
action: tap
- [ ] Đăng ký tài khoản mới
  > Bạn đã có tài khoản mức 1 rồi.
- [x] Đăng nhập
hint: Bạn đã có tài khoản.
hint: Chọn nút thứ hai.
> Tài khoản mức 1 đã có, chỉ cần đăng nhập.

## Nhập mã OTP
message: Dịch vụ định danh | Mã OTP của bạn là 482913. Không cung cấp mã này cho ai.
Nhập mã vừa nhận.
action: input
label: Mã OTP
answer: 482913
hint: Xem tin nhắn ở đầu màn hình.
> Mã OTP chỉ nhập vào ứng dụng, không bao giờ đọc cho người khác.

## Xác nhận thanh toán
qr: LUYEN TAP - KHONG CO GIA TRI THANH TOAN
| Người nhận | Kho bạc (mô phỏng) |
|---|---|
| Số tiền | 50.000 đ |
action: tap
- [x] Xác nhận
- [ ] Hủy
hint: Thông tin người nhận đúng.
> Kiểm tra tên người nhận trước khi xác nhận.
"""


@pytest.fixture()
def practice_folder(course_copy):  # noqa: F811 - the imported fixture
    folder = course_copy()
    (folder / "01-bai-mo-dau" / "03-kich-hoat.sim.md").write_text(SIMULATION, encoding="utf-8")
    return folder


@pytest.fixture()
def practice_course(create_course, practice_folder):
    return create_course(practice_folder)


@pytest.fixture()
def simulation_lesson(practice_course):
    return next(lesson for lesson in practice_course.active_lessons() if lesson.is_simulation)
