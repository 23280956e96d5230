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
# what a receiver writes is committed by the view's lifecycle.
lesson_viewed = _signals.signal("lesson-viewed")
# sender=Enrollment, lesson=: the learner finished a practice simulation, which counts as the lesson
# done; enrollment marks it (and so sends lesson_completed).
practice_finished = _signals.signal("practice-finished")
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

# --- people (issue 18: accounts, imports, classes and notifications meet here, not in each other's code)
# sender=User, via= ("register", "sso"): an account was just made by its owner, who accepted the
# privacy notice. privacy records the consent; assignments gives the new person their rules.
account_created = _signals.signal("account-created")
# sender=User, via= ("sso-link"): an existing account's owner accepted the privacy notice (linking a
# single sign-on to an account that never gave consent). privacy records the consent.
consent_accepted = _signals.signal("consent-accepted")
# sender=User: what decides a person's assignments changed (locality, agency, position, audience).
# assignments applies its rules to the person.
person_placed = _signals.signal("person-placed")
# sender=ImportJob: a people import created or updated accounts; assignments applies every rule
# once for the whole file (set-based), not once per person.
people_imported = _signals.signal("people-imported")
# sender=User (the learner), course=, source=: another feature (a class roster) puts the person on
# a course; enrollment enrols them (idempotent).
course_assigned = _signals.signal("course-assigned")
# sender=User, kind=, subject=, body=, dedupe_key=, link=: tell the person something (in the app
# and, if they want it, by e-mail). notifications makes the notification, idempotent by dedupe_key.
notification_requested = _signals.signal("notification-requested")
# sender=None, items= (dicts as above): the same for a batch; the receiver returns how many were new.
notifications_requested = _signals.signal("notifications-requested")
# sender=User | None, channel= ("email" | "sms"), to=, body=, purpose=, subject=: a message to an
# address that is not (yet) the account's own — a reset link, a code. notifications queues it.
direct_message_requested = _signals.signal("direct-message-requested")
# sender=None, message_ids=: direct messages made with `batch=` (bulk invitations); notifications
# queues their sending, a chunk per outbox message. The receiver returns how many were queued.
direct_messages_batched = _signals.signal("direct-messages-batched")

# sender=User: the person's account is being erased (lms.privacy.erasure, after the grace period);
# every feature deletes the rows that only served the person (notifications: notices, preferences,
# messages), in the erasing transaction.
personal_data_erased = _signals.signal("personal-data-erased")

# --- requests another feature answers (sender=the actor; one receiver acts and returns the result,
# `answer(signal, actor, ...)` reads it; a refusal is a ValueError whose message is for the user)
# full_name=, phone=, audience=, locality=: a person registered on their behalf (community's digital
# team). accounts makes the account with no usable password — the person chooses one from the
# hand-over link — and returns the User.
account_requested = _signals.signal("account-requested")
# user=, role=, locality=: accounts grants the role (audited; the person's sessions end) and returns
# the RoleGrant.
role_requested = _signals.signal("role-requested")
# sender=User: the person's certificates, oldest generation first (enrollment's "my learning" page);
# certificates answers.
certificates_asked = _signals.signal("certificates-asked")
# sender=Course | None: the programs that include the course, or every program, by title (the
# catalogue and the course page list them); programs answers.
programs_asked = _signals.signal("programs-asked")
# sender=Course: what must be completed before enrolling in it (Prerequisite rows); programs answers.
prerequisites_asked = _signals.signal("prerequisites-asked")
# sender=Course, quiz_id=: the course's quiz with this id, or None (enrollment's "done, now the quiz"
# button); quizzes answers.
quiz_asked = _signals.signal("quiz-asked")
# sender=User: may the person see the privacy notice's consent box (accounts' SSO link page)? privacy
# answers whether their last word on the notice was "given".
consent_asked = _signals.signal("consent-asked")
# code=, name=, kind=, parent=: agencies makes the agency (test data: `flask reports synthetic`)
# and returns it.
agency_requested = _signals.signal("agency-requested")
# sender=ImportJob, data= (the CSV's bytes), actor=: in the worker, agencies reads an agencies file,
# set-based, and returns {"created": n, "updated": n, "errors": [(row, message)]}, or {"refused": message}.
agency_file_received = _signals.signal("agency-file-received")
# sender=User, data=, filename=, kind= ("agencies"): imports checks the file, keeps it, queues its
# import job and returns the ImportJob; an unreadable file is refused (ValueError).
file_import_requested = _signals.signal("file-import-requested")
# sender=User | None (the actor), unit=, audience=, population=, target_percent=, due_on=, counts=,
# completed=: the one target model (lms.targets) creates or replaces the unit's target and returns the
# LocalityTarget; a refused target is a ValueError whose message is for the form (the reports' target
# form and the community team page both set targets).
target_requested = _signals.signal("target-requested")
# sender=User | None, text= (CSV): targets saves every row (`flask reports import-targets`) and returns
# how many; a bad line is a ValueError naming it.
targets_file_received = _signals.signal("targets-file-received")
# sender=course id: do quiz attempts taken in an assisted session count toward completing this course?
# programs answers (no when a program holding the course says so); completion asks.
assisted_attempts_policy_asked = _signals.signal("assisted-attempts-policy-asked")
# sender=user id, quiz_ids=: the person's submitted attempts at these quizzes taken in an assisted
# session (a set of attempt ids); community answers, completion asks.
assisted_attempts_asked = _signals.signal("assisted-attempts-asked")
# sender=a SQL expression for a user id (a column or a bindparam): the bell's unread count for that person
# as a scalar subquery, for a page that fetches it in its own statement (the lesson page); notifications
# answers.
unread_count_column_asked = _signals.signal("unread-count-column-asked")


def answer(signal, sender, **kwargs):
    """The one receiver's answer to a request signal (a missing listener is a programming error)."""
    answers = [value for _receiver, value in signal.send(sender, **kwargs)]
    if len(answers) != 1:
        raise RuntimeError(f"{signal.name}: expected one receiver, found {len(answers)}")
    return answers[0]
