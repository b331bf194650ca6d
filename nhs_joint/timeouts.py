"""Every request answers in bounded time, whatever the database does.

PostgreSQL ends a statement that runs longer than DATABASE_STATEMENT_TIMEOUT and a wait for a lock longer
than DATABASE_LOCK_TIMEOUT (``server_options``, given to every connection in the settings), and TCP
keepalives find a connection whose server's machine has gone away. None of them helps when the server is
there but does not answer (stopped, swapped out, its disk hung): its machine still acknowledges what is
sent, and the timeouts are the server's own. So a request also waits at most DATABASE_REQUEST_TIMEOUT
seconds for any one answer of the database, connecting included: psycopg2 hands its waiting to
``wait_for_response`` (its wait callback), which then gives up with an OperationalError, answered with the
503 page (nhs_joint.failures); psycopg2 closes that connection. Once one answer of a request has not come,
the rest of that request does not wait again, so the 503 follows the first wait.

Outside a request (Celery workers, management commands) nothing is cut short by the portal: they wait as
long as the server's own timeouts allow (a worker's statements have the reports' longer limit,
nhs_joint.celery), and a connection as long as its connect_timeout, which libpq leaves to the callback.
"""

import select
import threading

import psycopg2
from psycopg2 import extensions

_request = threading.local()


def server_options(statement_timeout, lock_timeout, existing=""):
    """The ``options`` a connection starts with: PostgreSQL's statement and lock timeouts (seconds; 0 for
    none), after any options the database's address already gives."""
    settings = [
        f"-c statement_timeout={round(statement_timeout * 1000)}",
        f"-c lock_timeout={round(lock_timeout * 1000)}",
    ]
    return " ".join(part for part in (existing, *settings) if part)


def connect_timeout(connection):
    """The connection's own connect_timeout in seconds, as libpq reads it (absent or 0: none; at least 2), or
    None. libpq ignores it when psycopg2 waits for it, so ``wait_for_response`` applies it while connecting."""
    try:
        seconds = float(extensions.parse_dsn(connection.dsn).get("connect_timeout") or 0)
    except (psycopg2.ProgrammingError, ValueError):
        return None
    return max(seconds, 2) if seconds > 0 else None


def wait_for_response(connection):
    """psycopg2's wait callback: wait for the server as libpq would (connect_timeout included while
    connecting), but within a request no longer than DATABASE_REQUEST_TIMEOUT seconds for each answer."""
    request_limit = limit = getattr(_request, "limit", None)
    if connection.status == extensions.STATUS_SETUP:
        connecting = connect_timeout(connection)
        limit = min(filter(None, (request_limit, connecting)), default=None)
    while True:
        try:
            state = connection.poll()
            if state == extensions.POLL_OK:
                return
            if getattr(_request, "unanswered", False):
                raise psycopg2.OperationalError("the database did not answer earlier in this request")
            events = select.POLLIN if state == extensions.POLL_READ else select.POLLOUT
            if state not in (extensions.POLL_READ, extensions.POLL_WRITE):
                raise psycopg2.OperationalError(f"unexpected state from the database connection: {state}")
            poller = select.poll()
            poller.register(connection.fileno(), events | select.POLLERR | select.POLLHUP)
            if not poller.poll(None if limit is None else limit * 1000):
                if request_limit is not None:
                    _request.unanswered = True  # the rest of this request does not wait again
                raise psycopg2.OperationalError(f"the database did not answer within {limit:g} seconds")
        except KeyboardInterrupt:
            connection.cancel()  # as psycopg2's own wait_select: stop the query, then wait for its end
            continue


class DatabaseTimeoutMiddleware:
    """Bounds each request's waits for the database (see the module). First in MIDDLEWARE, so that what the
    other middleware read (the session, the person) is bounded too; the bound lasts until the response has
    been sent (``request_finished``), a streamed file's reads included."""

    def __init__(self, get_response):
        from django.core.signals import request_finished

        self.get_response = get_response
        extensions.set_wait_callback(wait_for_response)
        request_finished.connect(request_done, dispatch_uid="nhs_joint.timeouts.request_done")

    def __call__(self, request):
        from django.conf import settings

        _request.limit = settings.DATABASE_REQUEST_TIMEOUT or None
        _request.unanswered = False
        return self.get_response(request)


def request_done(**kwargs):
    _request.limit = None
    _request.unanswered = False
