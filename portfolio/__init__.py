"""portfolio: an evidence-tracking ePortfolio for vocational qualifications.

Only the application factory lives here. Flask is imported inside it so that the pure domain
modules (such as the rules engine) can be imported without the web framework.
"""

from __future__ import annotations


def create_app(settings=None, **overrides):
    """Build the application. Migrations are a deploy step and never run here."""
    from flask import Flask, redirect, render_template, url_for
    from flask_wtf.csrf import CSRFError

    from portfolio.catalogue.cli import catalogue_cli
    from portfolio.catalogue.views import blueprint as catalogue_blueprint
    from portfolio.config import PROJECT_ROOT, Settings
    from portfolio.core.db import configure_engine
    from portfolio.core.security import init_security
    from portfolio.extensions import csrf, db, migrate

    settings = settings or Settings.from_environ()
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(settings.flask_config())
    app.config.update(overrides)

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    init_security(app)

    app.register_blueprint(catalogue_blueprint)
    app.cli.add_command(catalogue_cli)

    @app.errorhandler(404)
    def not_found(error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("errors/csrf.html", reason=error.description), 400

    @app.teardown_request
    def rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()

    @app.get("/")
    def index():
        return redirect(url_for("catalogue.index"))

    return app
