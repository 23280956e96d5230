"""The app class: Flask with a cheaper `ensure_sync`.

Flask passes every hook and view through `ensure_sync` on every request (19 times for a lesson page:
6 before-request hooks, 8 after-request hooks, 3 teardowns, the view, the URL defaults), and each call
asks `inspect.iscoroutinefunction`, which unwraps methods and partials and looks the function up three
ways: ~5 % of a light page's CPU. A plain function or a method of one is synchronous exactly when its
code object lacks the coroutine flag; that is what is read here. Anything else (a partial, a callable
object, a function marked as a coroutine function) goes to Flask's own check.
"""

from inspect import CO_COROUTINE
from types import FunctionType, MethodType

from flask import Flask


class LmsFlask(Flask):
    def ensure_sync(self, func):
        plain = func.__func__ if type(func) is MethodType else func
        if (type(plain) is FunctionType and not plain.__code__.co_flags & CO_COROUTINE
                and getattr(plain, "_is_coroutine_marker", None) is None):
            return func
        return super().ensure_sync(func)
