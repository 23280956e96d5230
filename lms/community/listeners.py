"""Community answers completion: which of a person's attempts were taken with a digital-team member's help."""

from lms.community.queries import assisted_attempt_ids
from lms.core.signals import assisted_attempts_asked


@assisted_attempts_asked.connect
def _assisted_attempts(user_id, *, quiz_ids, **_):
    return assisted_attempt_ids(user_id, quiz_ids)
