"""Real concurrency for the tests that need it (PostgreSQL): several clients at the same
moment, each in its own thread."""

from __future__ import annotations

import threading

from tests.helpers.web import csrf_token, log_in

#: Seconds a contender may wait at a barrier or for its answer.
TIMEOUT = 30


def post_at_once(app, email, url, data):
    """Two logged-in clients of ``email`` POST ``data`` (plus their CSRF token) to ``url`` at the
    same moment, each in its own thread; returns their responses (or the exceptions)."""
    return post_together(app, [(email, url, data)] * 2)


def post_together(app, posts):
    """Each ``(email, url, data)`` of ``posts`` is POSTed by its own logged-in client (with its
    CSRF token), all at the same moment, each in its own thread; returns the responses (or the
    exceptions) in order."""
    clients = []
    for email, _, _ in posts:
        client = app.test_client()
        assert log_in(client, email).status_code == 302
        clients.append((client, csrf_token(client, "/catalogue/")))
    barrier = threading.Barrier(len(posts), timeout=TIMEOUT)
    responses: list[object] = [None] * len(posts)

    def post(index):
        (client, token), (_, url, data) = clients[index], posts[index]
        try:
            barrier.wait()
            responses[index] = client.post(url, data={**data, "csrf_token": token})
        except BaseException as error:
            barrier.abort()
            responses[index] = error

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(posts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
        assert not thread.is_alive()
    return responses
