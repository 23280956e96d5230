"""Privacy records the consent of whoever makes an account (registration, first SSO sign-in), and
asks imported people, who do neither, to accept the notice at their next login."""

from lms.core.signals import account_created, consent_accepted, consent_asked, people_imported
from lms.privacy.operations import ask_accounts_without_consent, record_consent
from lms.privacy.queries import has_consent


@account_created.connect
@consent_accepted.connect
def _consent_given(user, via: str, **_):
    record_consent(user, via)


@people_imported.connect
def _imported_people_see_the_notice(job, **_):
    ask_accounts_without_consent()


@consent_asked.connect
def _has_consent(user, **_):
    return has_consent(user)
