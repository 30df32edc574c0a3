"""gunicorn's configuration for portfolio in production:

    gunicorn -c deploy/gunicorn.conf.py "portfolio:create_app()"

with the ``PORTFOLIO_*`` settings in the environment (PostgreSQL and an S3 store: see README.md).
``--bind``, ``--workers`` and ``--threads`` on the command line override what is set here.

Threaded workers (gthread): a page spends much of its time waiting for the database, and a
thread waiting on a slow client (a phone uploading, a keep-alive connection) costs a thread, not
a process. The worker's heartbeat comes from its main loop, not from the request, so ``timeout``
restarts a stuck worker without cutting off a long upload.
"""

import multiprocessing
import os

#: Behind a reverse proxy on the same machine; ``--bind`` says otherwise.
bind = "127.0.0.1:8000"
worker_class = "gthread"
#: One process per core (the GIL lets one thread per process run Python at a time) ...
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
#: ... and threads enough to keep each core busy while others wait on the database or network.
threads = 8
#: Seconds a worker may go without a heartbeat before it is restarted.
timeout = 60
#: Seconds an idle keep-alive connection is kept: a browser loads a page's assets on one.
keepalive = 5
graceful_timeout = 30
#: Restart each worker after this many requests (with jitter, so not all at once): a slow leak
#: cannot grow for ever.
max_requests = 10_000
max_requests_jitter = 1_000
#: Errors and tracebacks on standard error; the access log is the reverse proxy's job.
errorlog = "-"
loglevel = "info"
if os.environ.get("PORTFOLIO_LOG_FORMAT", "").strip().lower() == "json":
    # gunicorn's own lines (starting, a worker timed out) as JSON too, through the root
    # logger's handler, which the application then finds in place and keeps.
    logconfig_dict = {
        "root": {"level": "INFO", "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
        "handlers": {"json": {"class": "portfolio.core.logs.JsonHandler",
                              "stream": "ext://sys.stderr"}},
        "formatters": {},
    }
# No preload_app: each worker opens its own database connections after the fork.


def on_starting(server):
    """With ``PROMETHEUS_MULTIPROC_DIR`` set, the workers' metrics go to files there: the
    directory is created, and emptied of an earlier run's files, whose counts would otherwise
    be added to this run's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    """A worker that exits (restarted after ``max_requests``, or crashed) keeps its counts in
    the sum; only its live gauges are dropped."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
