"""Deny by default, the user loader, the client's address behind trusted proxies, safe redirects
and response hardening."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, request, url_for
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from portfolio.config import SettingsError

#: Endpoints for machines (a load balancer's probe, a metrics scraper): no login, and the
#: session is never read, so no cookie is set and no login session is touched.
SESSIONLESS_ENDPOINTS = frozenset({"health.healthz", "health.readyz", "metrics.scrape"})
#: Endpoints reachable without logging in; everything else needs a session.
PUBLIC_ENDPOINTS = frozenset({"accounts.login", "passwords.forgot", "passwords.set_password",
                              "static"}) | SESSIONLESS_ENDPOINTS


def init_security(app: Flask, login_manager, load_user, trusted_proxies: int = 0) -> None:
    """``load_user(id)`` answers Flask-Login's id from the session cookie. Behind
    ``trusted_proxies`` reverse proxies, the client's address and scheme are the ones the
    nearest of them forwarded; with none, forwarded headers are ignored (anyone can send them)."""
    if trusted_proxies < 0:
        raise SettingsError(f"PORTFOLIO_TRUSTED_PROXIES: expected 0 or more, got {trusted_proxies}")
    if trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted_proxies, x_proto=trusted_proxies)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)

    @app.before_request
    def deny_by_default():
        if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        return None

    @app.after_request
    def set_security_headers(response):
        storage_origin = app.config.get("STORAGE_PUBLIC_ORIGIN", "")
        frame_source = storage_origin or "'none'"
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; img-src 'self' data: {storage_origin}; style-src 'self'; "
            # Frames only from the store: the judge page shows PDFs in the browser's viewer.
            f"frame-src {frame_source}; "
            f"script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            f"frame-ancestors 'none'; form-action 'self'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint in SESSIONLESS_ENDPOINTS or current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def logged_in_user_id() -> int | None:
    """The id of the user the request's session belongs to, or None; never loads a session
    for an endpoint that must not read one."""
    if request.endpoint in SESSIONLESS_ENDPOINTS or not current_user.is_authenticated:
        return None
    return current_user.id


def safe_next_url(target: str | None, default_endpoint: str = "accounts.home") -> str:
    """A redirect target on this site only (no scheme, no host, not protocol-relative)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//") and "\\" not in target:
            return target
    return url_for(default_endpoint)


def client_address() -> str:
    return request.remote_addr or "unknown"
