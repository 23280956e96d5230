"""Assignments react to people: a new account, a changed place or position, a finished import.

The accounts, audiences and imports code only announces (lms.core.signals); the rules stay here.
"""

from lms.assignments.operations import apply_all_rules, apply_rules_for_user
from lms.core.signals import account_created, people_imported, person_placed


@account_created.connect
@person_placed.connect
def _rules_for_the_person(user, **_):
    apply_rules_for_user(user)


@people_imported.connect
def _rules_for_everyone(job, **_):
    apply_all_rules()  # set-based, once for the whole file rather than once per imported person
