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
    clients = []
    for _ in range(2):
        client = app.test_client()
        assert log_in(client, email).status_code == 302
        clients.append((client, csrf_token(client, "/catalogue/")))
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    responses: list[object] = [None, None]

    def post(index):
        client, token = clients[index]
        try:
            barrier.wait()
            responses[index] = client.post(url, data={**data, "csrf_token": token})
        except BaseException as error:
            barrier.abort()
            responses[index] = error

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
        assert not thread.is_alive()
    return responses
