"""Privacy records the consent of whoever makes an account (registration, first SSO sign-in)."""

from lms.core.signals import account_created, consent_accepted
from lms.privacy.operations import record_consent


@account_created.connect
@consent_accepted.connect
def _consent_given(user, via: str, **_):
    record_consent(user, via)
