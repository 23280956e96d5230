"""Accounts made and roles granted on another feature's request (lms.core.signals), so that no
feature imports this one's operations."""

from lms.accounts.models import unusable_password_hash
from lms.accounts.operations import create_user, grant_role
from lms.core.signals import account_requested, role_requested


@account_requested.connect
def _make_account(_actor, *, full_name, phone, audience, locality, **_):
    user = create_user(full_name, "", phone=phone, audience=audience, locality=locality)
    user.password_hash = unusable_password_hash()  # they choose their own password from the hand-over link
    return user


@role_requested.connect
def _grant_role(actor, *, user, role, locality=None, **_):
    return grant_role(user, role, locality=locality, actor=actor)
