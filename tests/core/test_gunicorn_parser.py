"""gunicorn parses requests with its C parser (gunicorn_h1c, pinned in requirements.txt): about 15 % less CPU a
request in a sync worker than its pure-Python parser (docs/performance.md, "(eighth)"). gunicorn falls back to the
Python parser without a word when the package is missing, too old, or a compatibility flag is set."""

from gunicorn.config import Config
from gunicorn.http import message


def test_gunicorn_uses_its_c_parser_with_the_apps_settings():
    config = Config()
    for name, value in (("forwarded_allow_ips", "127.0.0.1"), ("workers", 4)):  # as deploy/ and the tests start it
        config.set(name, value)
    assert config.http_parser == "auto"
    assert message._check_fast_parser(config) is True
