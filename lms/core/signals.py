"""Signals of the shared machinery (features define their own signals in their packages)."""

from blinker import Namespace

_signals = Namespace()

# A piece of background work used all its runs: sent with task=, kwargs=, error=, inside the
# transaction that marks it failed, so a listener can mark its own job failed with it.
background_work_failed = _signals.signal("background-work-failed")

# Someone used a privilege (lms.core.audit.record sends it): actor=, action=, obj=, before=, after=,
# summary=. lms.audit listens and writes the audit log, so features never import the audit package.
privileged_action = _signals.signal("privileged-action")
