"""portfolio: an evidence-tracking ePortfolio for vocational qualifications.

Only the application factory lives here. Flask is imported inside it so that the pure domain
modules (such as the rules engine) can be imported without the web framework.
"""

from __future__ import annotations


def create_app(settings=None, **overrides):
    """Build the application. Migrations are a deploy step and never run here."""
    from urllib.parse import urlsplit

    from flask import Flask, render_template
    from flask_wtf.csrf import CSRFError

    # Imported for their effect: the audit trail receives every event; assessment answers the
    # evidence feature's hooks; quality answers assessment's (its views import them).
    from portfolio.accounts import sessions
    from portfolio.accounts.cli import centre_cli, user_cli
    from portfolio.accounts.enrolment_views import blueprint as enrolments_blueprint
    from portfolio.accounts.import_cli import users_cli
    from portfolio.accounts.import_views import blueprint as imports_blueprint
    from portfolio.accounts.link_views import blueprint as passwords_blueprint
    from portfolio.accounts.people_views import blueprint as people_blueprint
    from portfolio.accounts.views import blueprint as accounts_blueprint
    from portfolio.assessment.countersigning_views import blueprint as countersigning_blueprint
    from portfolio.assessment.views import blueprint as assessment_blueprint
    from portfolio.catalogue.cli import catalogue_cli
    from portfolio.catalogue.views import blueprint as catalogue_blueprint
    from portfolio.config import PROJECT_ROOT, Settings, private_instance_folder
    from portfolio.core import audit  # noqa: F401
    from portfolio.core.backup.cli import backup_cli
    from portfolio.core.dates import init_dates
    from portfolio.core.db import configure_engine
    from portfolio.core.health import init_health
    from portfolio.core.logs import configure_logging, init_request_logging
    from portfolio.core.mail.cli import mail_cli
    from portfolio.core.metrics import init_metrics
    from portfolio.core.security import init_security, logged_in_user_id
    from portfolio.core.storage import ObjectStore, StorageConfig
    from portfolio.core.transaction import end_reading
    from portfolio.demo.cli import demo_cli
    from portfolio.evidence.cli import storage_cli
    from portfolio.evidence.upload_views import blueprint as uploads_blueprint
    from portfolio.evidence.views import blueprint as evidence_blueprint
    from portfolio.extensions import csrf, db, login_manager, migrate
    from portfolio.notifications import receivers  # noqa: F401  (tells people of events)
    from portfolio.notifications.cli import notifications_cli
    from portfolio.notifications.views import blueprint as notifications_blueprint
    from portfolio.quality import models as quality_models  # noqa: F401  (until its views)
    from portfolio.quality.cli import quality_cli
    from portfolio.quality.plan_views import blueprint as plans_blueprint
    from portfolio.quality.standardisation_views import blueprint as standardisation_blueprint
    from portfolio.quality.trail_views import blueprint as trail_blueprint
    from portfolio.quality.views import blueprint as quality_blueprint

    settings = settings or Settings.from_environ()
    private_instance_folder(settings.instance_path)
    configure_logging(settings.log_format)
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(settings.flask_config())
    app.config.update(overrides)
    # First: its hooks give every request an id before another (CSRF, login) may answer early.
    init_request_logging(app, settings.log_format, logged_in_user_id)

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    init_dates(app)
    if settings.metrics:
        init_metrics(app)
    init_health(app, settings.ready_timeout_seconds)
    init_security(app, login_manager, lambda token: sessions.load_user(db.session, token),
                  settings.trusted_proxies)

    storage_config = StorageConfig.from_settings(
        settings, endpoint_url=settings.resolved_s3_endpoint_url,
        access_key=settings.resolved_s3_access_key, secret_key=settings.resolved_s3_secret_key)
    app.extensions["object_store"] = ObjectStore(storage_config)
    public = urlsplit(storage_config.public_endpoint_url)
    app.config["STORAGE_PUBLIC_ORIGIN"] = f"{public.scheme}://{public.netloc}"

    app.register_blueprint(accounts_blueprint)
    app.register_blueprint(imports_blueprint)
    app.register_blueprint(passwords_blueprint)
    app.register_blueprint(enrolments_blueprint)
    app.register_blueprint(people_blueprint)
    app.register_blueprint(catalogue_blueprint)
    app.register_blueprint(evidence_blueprint)
    app.register_blueprint(uploads_blueprint)
    app.register_blueprint(assessment_blueprint)
    app.register_blueprint(quality_blueprint)
    app.register_blueprint(standardisation_blueprint)
    app.register_blueprint(countersigning_blueprint)
    app.register_blueprint(notifications_blueprint)
    app.register_blueprint(trail_blueprint)
    app.register_blueprint(plans_blueprint)
    app.cli.add_command(catalogue_cli)
    app.cli.add_command(storage_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(centre_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(quality_cli)
    app.cli.add_command(demo_cli)

    @app.errorhandler(400)
    def bad_request(error):
        return render_template("errors/400.html"), 400

    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(413)
    def too_large(error):
        return render_template("errors/413.html"), 413

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("errors/csrf.html", reason=error.description), 400

    @app.errorhandler(500)
    def server_error(error):
        # Flask has logged the exception; the page must not need the database that may have
        # caused it.
        return render_template("errors/500.html"), 500

    @app.teardown_request
    def end_transaction(exc):
        if exc is not None:
            db.session.rollback()
        else:
            end_reading(db.session())

    return app
