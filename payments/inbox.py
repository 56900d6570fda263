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
from django.db import close_old_connections

logger = logging.getLogger(__name__)

POLL_SECONDS = 2.0

_lock = threading.Lock()
_wake = threading.Event()
_thread: threading.Thread | None = None
_pid: int | None = None


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
        _thread = threading.Thread(target=_run, name="wemoov-provider-events", daemon=True)
        _thread.start()


def _run() -> None:
    from payments.services import provider_events_apply_pending

    while True:
        _wake.wait(POLL_SECONDS)
        _wake.clear()
        close_old_connections()
        try:
            provider_events_apply_pending()
        except Exception:
            # The database is down, say: the events wait in the inbox; try again shortly.
            logger.exception("provider events: applying the inbox failed")
            time.sleep(POLL_SECONDS)
        finally:
            close_old_connections()
