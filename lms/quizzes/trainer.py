from flask import abort


def manage(slug):
    abort(404)


def export_gift(quiz_id):
    abort(404)


def overview(quiz_id):
    abort(404)


def grading_queue(quiz_id):
    abort(404)


def regrade(quiz_id):
    abort(404)


def statistics(quiz_id):
    abort(404)
