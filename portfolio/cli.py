"""The ``portfolio`` command: Flask's CLI group bound to the application factory.

``portfolio db upgrade`` (Flask-Migrate), ``portfolio run`` and ``portfolio catalogue ...``.
"""

from flask.cli import FlaskGroup

from portfolio import create_app


def main() -> None:
    FlaskGroup(create_app=lambda: create_app(), help=__doc__)(prog_name="portfolio")
