"""Flask extensions, created unbound and initialised by the application factory."""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from portfolio.core.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
csrf = CSRFProtect()
login_manager = LoginManager()


def object_store():
    """The application's :class:`~portfolio.core.storage.ObjectStore`."""
    from flask import current_app

    return current_app.extensions["object_store"]
