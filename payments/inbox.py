"""Each server process applies the provider events it stores, in a thread of its own.

The webhook stores an event and answers at once; then it wakes this process's applier, a
daemon thread started on the first event the process receives (so after gunicorn's fork, in
every worker that receives events, with nothing else to run). The thread applies every ready
event (`provider_event_apply_next`: `SELECT ... FOR UPDATE SKIP LOCKED`, so the threads of all
processes share the inbox without ever applying an event twice), then sleeps until woken or
until `POLL_SECONDS` pass: the look it takes then finds the events that a process which died
before applying them left behind, and the ones whose provider call is due again. The
reconciler (`payments_reconcile`) drains the inbox too, as a last resort.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connections

logger = logging.getLogger(__name__)

POLL_SECONDS = 2.0

_lock = threading.Lock()
_wake = threading.Event()
_stop = threading.Event()
_thread: threading.Thread | None = None
_pid: int | None = None


def apply_after_response(event_pk: int):
    """What the webhook's response runs once it has been sent: this process applies the event
    it just stored (the client already has its answer), or leaves it to the applier thread."""

    def apply() -> None:
        from payments.services import provider_event_apply

        try:
            outcome = provider_event_apply(event_pk=event_pk)
        except Exception:
            logger.exception("provider events: applying event %s after its response failed", event_pk)
            outcome = None
        if outcome in (None, "retry"):
            wake()  # taken by another applier, or waiting for the provider: the thread sees to it

    return apply


def wake() -> None:
    """Have this process's applier look at the inbox now (starting it if need be)."""
    if not settings.PAYMENT_EVENTS_WORKER:
        return
    _ensure_started()
    _wake.set()


def _ensure_started() -> None:
    global _thread, _pid
    if _thread is not None and _pid == os.getpid() and _thread.is_alive():
        return
    with _lock:
        if _thread is not None and _pid == os.getpid() and _thread.is_alive():
            return
        _pid = os.getpid()  # a forked child inherits the variable, not the thread
        _stop.clear()
        _thread = threading.Thread(target=_run, name="wemoov-provider-events", daemon=True)
        _thread.start()
        logger.info("provider events: applier started in process %s", _pid)


def stop(timeout: float = 10) -> None:
    """Stop this process's applier and close its database connection (tests; a server never
    needs it: the thread is a daemon and ends with its process)."""
    thread = _thread
    if thread is None or not thread.is_alive():
        return
    _stop.set()
    _wake.set()
    thread.join(timeout)


def _run() -> None:
    from payments.services import provider_events_apply_pending

    while not _stop.is_set():
        woken = _wake.wait(POLL_SECONDS)
        _wake.clear()
        if _stop.is_set():
            break
        close_old_connections()
        try:
            provider_events_apply_pending()
        except Exception:
            # The database is down, say: the events wait in the inbox; try again shortly.
            logger.exception("provider events: applying the inbox failed")
            time.sleep(POLL_SECONDS)
        finally:
            if woken:
                close_old_connections()
            else:  # idle: hold no connection between looks
                connections.close_all()
    connections.close_all()
