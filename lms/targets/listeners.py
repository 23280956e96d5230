"""Targets answer the two pages that set them (reports' target form and CSV import, the community team
page): the one writer is lms.targets.operations."""

from lms.core.signals import target_requested, targets_file_received
from lms.targets.operations import import_targets, set_target


@target_requested.connect
def _set_target(actor, *, unit, audience, population, target_percent, due_on, counts="all", completed=None, **_):
    return set_target(unit, audience, population, target_percent, due_on, actor, counts=counts, completed=completed)


@targets_file_received.connect
def _import_targets(actor, *, text, **_):
    return import_targets(text, actor)
