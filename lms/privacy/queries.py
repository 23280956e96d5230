"""Reads about consent and the notice, for this feature and for the others that must respect it
(notifications, results sharing): what a person agreed to is asked here, never guessed."""

from sqlalchemy import select

from lms.extensions import db
from lms.privacy.models import ConsentRecord, DataRequest, NoticeReview, PrivacyNotice

# Version 1 is the notice the software ships with (docs/privacy.md); administrators publish 2, 3, ….
DEFAULT_VERSION = 1


DEFAULT_VI = (
    "Trung tâm xử lý dữ liệu cá nhân của bạn (họ tên, thư điện tử hoặc số điện thoại, xã/phường, cơ quan, "
    "chức vụ, quá trình học, bài kiểm tra và chứng chỉ) để tổ chức đào tạo, cấp và xác minh chứng chỉ, và báo "
    "cáo kết quả theo Nghị định 13/2023/NĐ-CP. Dữ liệu không được bán hay chuyển cho bên thứ ba ngoài cơ quan "
    "nhà nước có thẩm quyền. Bạn có quyền xem, tải về, sửa, rút lại sự đồng ý và yêu cầu xoá dữ liệu tại trang "
    "“Quyền riêng tư” trong tài khoản của mình.")


DEFAULT_EN = (
    "The centre processes your personal data (name, e-mail or phone number, commune, agency, position, learning "
    "record, quiz answers and certificates) to run the training, issue and verify certificates, and report results, "
    "under Decree 13/2023/NĐ-CP. It is not sold or passed to third parties other than competent state bodies. You "
    "may see, download and correct your data, withdraw consent and ask for deletion on the “Privacy” page of "
    "your account.")


def _last_word(user_id: int, purpose: str) -> str | None:
    return db.session.scalar(select(ConsentRecord.action).where(
        ConsentRecord.user_id == user_id, ConsentRecord.purpose == purpose)
        .order_by(ConsentRecord.id.desc()).limit(1))


def has_consent(user, purpose: str = "account") -> bool:
    """True when the person's last word on `purpose` was "given"."""
    return _last_word(user.id, purpose) == "given"


def consent_withdrawn(user_id: int) -> bool:
    """True when the person withdrew their consent to the notice (and has not given it again).
    Someone who never answered (an imported official) has not withdrawn anything."""
    return _last_word(user_id, "account") == "withdrawn"


def withdrawn_among(user_ids) -> set[int]:
    """Of these people, those who withdrew their consent to the notice (one query for a batch)."""
    ids = list(set(user_ids))
    if not ids:
        return set()
    latest = (select(ConsentRecord.user_id, db.func.max(ConsentRecord.id).label("last_id"))
              .where(ConsentRecord.user_id.in_(ids), ConsentRecord.purpose == "account")
              .group_by(ConsentRecord.user_id).subquery())
    rows = db.session.execute(select(ConsentRecord.user_id).join(latest, ConsentRecord.id == latest.c.last_id)
                              .where(ConsentRecord.action == "withdrawn"))
    return {row[0] for row in rows}


def must_review_notice(user_id: int) -> bool:
    return db.session.get(NoticeReview, user_id) is not None


def current_notice() -> dict:
    notice = db.session.scalar(select(PrivacyNotice).order_by(PrivacyNotice.version.desc()).limit(1))
    if notice is None:
        return {"version": DEFAULT_VERSION, "body_vi": DEFAULT_VI, "body_en": DEFAULT_EN, "published_at": None}
    return {"version": notice.version, "body_vi": notice.body_vi, "body_en": notice.body_en,
            "published_at": notice.published_at}


def consent_log(user) -> list[ConsentRecord]:
    return list(db.session.scalars(select(ConsentRecord).where(ConsentRecord.user_id == user.id)
                                   .order_by(ConsentRecord.id.desc())))


def open_request(user, kind: str) -> DataRequest | None:
    return db.session.scalar(select(DataRequest).where(DataRequest.user_id == user.id, DataRequest.kind == kind,
                                                       DataRequest.status.in_(("pending", "ready"))))
