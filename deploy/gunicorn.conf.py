"""gunicorn's configuration for portfolio in production:

    portfolio serve --production [--bind HOST:PORT] [--workers N] [--threads N]

which checks the settings and the database, then runs (in its own place, keeping its pid)

    gunicorn -c deploy/gunicorn.conf.py "portfolio:create_app()"

with the ``PORTFOLIO_*`` settings in the environment (PostgreSQL and an S3 store: see README.md).
``--bind``, ``--workers`` and ``--threads`` on the command line (or in ``GUNICORN_CMD_ARGS``)
override what is set here.

Threaded workers (gthread): a page spends much of its time waiting for the database, and a
thread waiting on a slow client costs a thread, not a process.

Uploads decide the thread count. A request holds its thread from the first byte of its body to
the answer, so a learner uploading 8 MiB (one request, or one part of a larger file) over a
phone's connection holds a thread for minutes while using almost no CPU: the body is hashed and
passed to the store as it arrives, and no database connection is held meanwhile. A worker whose
threads are all held queues every other request it accepts, pages included, behind them (with 8
threads a handful of slow uploads on one worker stalled its pages for as long as they lasted).
So each worker has many more threads than cores; a page still runs on its own thread at once,
and the GIL shares the CPU between the few that are busy. 32 per worker keep 8 slow uploads from
holding more than a quarter of them on either of two workers. Each thread that serves a page
takes a database connection from its worker's pool (5, overflowing to 15) only while it reads:
mind PostgreSQL's ``max_connections`` (100 by default) against workers x 15 on every node.

The limits, for 2 GiB bodies sent over many minutes:

- ``timeout`` is the worker's heartbeat, which comes from its main loop, not from a request: it
  restarts a stuck worker and never cuts off a long upload (the tests send one over 62 s).
- No limit on the body: gunicorn has none, the app refuses past ``PORTFOLIO_UPLOAD_MAX_BYTES``
  and the reverse proxy's ``client_max_body_size`` must allow it. The ``limit_request_*``
  defaults (4094-byte request line, 100 header fields of at most 8190 bytes) bound only the
  head of a request: the upload URLs, the resumable ticket and the session cookie fit well.
- A client that stops sending mid-body holds its thread until the connection drops: the reverse
  proxy's timeout between two reads (nginx ``client_body_timeout``, 60 s) ends it.
- ``graceful_timeout`` is how long a stopping worker lets requests finish: an upload part of
  8 MiB at 1 Mbit/s takes about 70 s. It stays under systemd's default 90 s to stop a service.
  A request cut off after it fails in the uploader, which sends the missing parts again (by
  itself for a large file, on Retry for a small one).
"""

import multiprocessing
import os

#: Behind a reverse proxy on the same machine; ``--bind`` says otherwise.
bind = "127.0.0.1:8000"
worker_class = "gthread"
#: One process per core (the GIL lets one thread per process run Python at a time) ...
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
#: ... and threads enough that slow uploads never hold them all (see above).
threads = 32
#: Seconds a worker may go without a heartbeat before it is restarted.
timeout = 60
#: Seconds an idle keep-alive connection is kept: a browser loads a page's assets on one. It
#: waits in the worker's poller, not on a thread.
keepalive = 5
graceful_timeout = 75
#: Restart each worker after this many requests (with jitter, so not all at once): a slow leak
#: cannot grow for ever. Rarely, though: a new worker fills its caches again (catalogue trees,
#: drawn rows, prepared statements) for seconds of CPU, and at 10,000 a worker serving 250 pages a
#: second restarted every 40 s, halving the evidence list's throughput in the benchmark.
max_requests = 200_000
max_requests_jitter = 20_000
#: No control socket (gunicornc): systemd's signals are how gunicorn is run, and every gunicorn
#: of one user would otherwise claim the same ~/.gunicorn/gunicorn.ctl.
control_socket_disable = True
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
