"""The events of the application (blinker signals, as indico does).

They live in core so that a feature that announces something and the features that listen import
only core, never each other. A listener is a function in its own feature, decorated with
`@signal.connect`, in a module `lms._register_models_and_tasks` imports. Events are sent inside
the caller's transaction (operations flush; the view, task or command commits), so whatever a
listener writes — an outbox message, a row — is committed or rolled back with the change itself.
"""

from blinker import Namespace

_signals = Namespace()

# A piece of background work used all its runs: sent with task=, kwargs=, error=, inside the
# transaction that marks it failed, so a listener can mark its own job failed with it.
background_work_failed = _signals.signal("background-work-failed")

# Someone used a privilege (lms.core.audit.record sends it): actor=, action=, obj=, before=, after=,
# summary=. lms.audit listens and writes the audit log, so features never import the audit package.
privileged_action = _signals.signal("privileged-action")
# sender=Attempt, after it was graded (submitted, an essay marked, or its quiz regraded).
attempt_graded = _signals.signal("attempt-graded")
# sender=Enrollment, lesson=Lesson: the learner marked the lesson done.
lesson_completed = _signals.signal("lesson-completed")
# sender=Enrollment, lesson=, progress= (lesson id → completed_at): a learner opened a lesson page;
# a receiver returns True when it wrote something (the view then commits).
lesson_viewed = _signals.signal("lesson-viewed")
# sender=Enrollment, once its completed_at is set (lms.completion decides when).
course_completed = _signals.signal("course-completed")
# sender=Program, user_id=: the user's completed courses now complete the program.
program_completed = _signals.signal("program-completed")
# sender=Certificate, inside the transaction that issued it (a new certificate, not an existing one).
certificate_issued = _signals.signal("certificate-issued")
# sender=Enrollment: the course of an expired certificate starts over, so that completing it renews.
renewal_started = _signals.signal("renewal-started")
# sender=Flask app, inside the scrape's app context: /metrics asks; a receiver returns a list of
# ("counter" | "gauge", name, help, value) read from its own tables.
metrics_collected = _signals.signal("metrics-collected")
# sender=Flask app: /healthz asks; a receiver returns (name, "ok" | "error") for its part.
health_checked = _signals.signal("health-checked")
