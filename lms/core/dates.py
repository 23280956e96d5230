"""Vietnam's time zone, the one place it is written.

Times are stored as naive UTC. People read and write them on Vietnam's clock (Asia/Ho_Chi_Minh,
UTC+7 without daylight saving since 1975): pages show them through `to_local`, forms and course
files give wall-clock times that `from_local` stores, and "today" — deadlines, the hours year — is
Vietnam's date (`local_today`).
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from lms.core.db import utcnow

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def to_local(value: datetime | None) -> datetime | None:
    """Stored naive UTC (or any aware time) → an aware time on Vietnam's clock."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(VIETNAM)


def local_wall_clock(value: datetime | None) -> datetime | None:
    """Stored naive UTC → Vietnam's wall-clock time without a zone, as people write it in files and forms."""
    local = to_local(value)
    return local.replace(tzinfo=None) if local is not None else None


def from_local(value: datetime | date) -> datetime:
    """A wall-clock time in Vietnam (naive; a date means its midnight), or an aware time → naive UTC for storing."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=VIETNAM)
    return value.astimezone(UTC).replace(tzinfo=None)


def local_today(now: datetime | None = None) -> date:
    """Vietnam's date at `now` (naive UTC; default: now)."""
    return to_local(now or utcnow()).date()
