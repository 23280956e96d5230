"""The security headers of every response (moved out of lms/__init__.py): a Content-Security-Policy, and
the fixed ones (nosniff, no framing, no referrer off-site, no device permissions, HSTS when served over HTTPS)."""

from lms.core import inline_style
from lms.offline import REGISTRATION_HASH


def _form_action_sources(app) -> str:
    """'self', and the OpenID providers: logging out (a form) redirects to their end-session endpoint,
    and browsers hold a form's redirects to form-action too."""
    from urllib.parse import urlsplit

    origins = {"{0.scheme}://{0.netloc}".format(urlsplit(settings["issuer"]))
               for settings in app.config.get("OIDC_PROVIDERS", {}).values()}
    return " ".join(["'self'", *sorted(origins)])


PERMISSIONS_POLICY = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                      "magnetometer=(), gyroscope=(), accelerometer=()")


def install(app) -> None:
    """The headers on every response, and `app.extensions["lms_security_headers"]`: the same for the autosave
    answered below Flask (lms/quizzes/fast_save.py)."""
    # Lessons may embed iframes only from LMS_IFRAME_HOSTS; the browser enforces it too.
    frame_src = " ".join(["'self'", *(f"https://{host}" for host in app.config.get("LMS_IFRAME_HOSTS", ()))])
    # Browsers keep to HTTPS for a year once they saw the site over it; only when it is served so.
    hsts = str(app.config.get("LMS_BASE_URL", "")).lower().startswith("https://")

    policies = {}  # the Content-Security-Policy per (inline stylesheet hash, sign-in providers): a handful

    def content_security_policy(style) -> str:
        # Providers can be registered while the app runs (lms.accounts.sso): their issuers are in the key.
        issuers = tuple(settings["issuer"] for settings in app.config.get("OIDC_PROVIDERS", {}).values())
        key = (style.csp_source if style else None, issuers)
        policy = policies.get(key)
        if policy is None:
            style_src = f"'self' {key[0]}" if key[0] else "'self'"
            policy = policies[key] = (
                f"default-src 'self'; script-src 'self' {REGISTRATION_HASH}; style-src {style_src}; img-src 'self' data:; "
                f"media-src 'self'; font-src 'self'; object-src 'none'; frame-src {frame_src}; frame-ancestors 'none'; "
                f"base-uri 'self'; form-action {_form_action_sources(app)}")
        return policy

    fixed = [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"), ("X-Frame-Options", "DENY"),
             # No page needs the camera, microphone, location or payment; embedded lessons get none either.
             ("Permissions-Policy", PERMISSIONS_POLICY)]
    if hsts:
        fixed.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))

    def add_security_headers(headers, style) -> None:
        # Each header unless the view set its own: the names present read once, not once per header.
        present = {name.lower() for name, _ in headers}
        if "content-security-policy" not in present:
            # The one inline <style> is the stylesheet on a first visit, allowed by its hash (lms/core/inline_style.py).
            # The policy is the same string for every response with the same stylesheet: made once, not per response.
            headers.add("Content-Security-Policy", content_security_policy(style))
        for name, value in fixed:
            if name.lower() not in present:
                headers.add(name, value)

    app.extensions["lms_security_headers"] = add_security_headers

    @app.after_request
    def _security_headers(response):
        add_security_headers(response.headers, inline_style.current())
        return response
