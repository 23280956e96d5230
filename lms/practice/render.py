"""A parsed simulation as the JSON stored on its lesson: every piece of Markdown rendered once, at import."""

import segno

from lms.core.markdown import render, render_inline
from lms.practice.format import SimulationSource, Step

RENDER_VERSION = 1


def _qr_svg(text: str) -> str:
    # The code only ever carries the author's practice text, made here: nothing to scan leaves the platform.
    return segno.make(text, error="m").svg_inline(scale=5, border=2, dark="#16202b", light="#ffffff",
                                                  title="QR luyện tập", omitsize=True)


def _step(step: Step, resolve) -> dict:
    return {
        "title": step.title,
        "screen_html": render(step.screen_md, resolve),
        "message": {"sender": step.message[0], "text": step.message[1]} if step.message else None,
        "qr_svg": _qr_svg(step.qr) if step.qr else "",
        "action": step.action,
        "label": step.label,
        "answers": step.answers,
        "options": [{"label": option.label, "html": render_inline(option.label), "correct": option.correct,
                     "feedback_html": render(option.feedback, resolve) if option.feedback else ""}
                    for option in step.options],
        "hints": [render_inline(hint) for hint in step.hints],
        "why_html": render(step.why_md, resolve),
    }


def simulation_data(source: SimulationSource, resolve=None) -> dict:
    return {"version": RENDER_VERSION, "app": source.app, "steps": [_step(step, resolve) for step in source.steps]}
