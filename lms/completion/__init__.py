"""Completion: the rules that decide when a course or a program is completed, and the events that say so.

Quizzes announce `attempt_graded` and enrollment `lesson_completed` (lms.core.events); this package
listens, applies the rules (lessons, quizzes, minimum score, study time; a program's required and
optional courses) and announces `course_completed` and `program_completed`. Certificates (and any
other feature) listen to those; none of them calls another feature's operations.
"""
