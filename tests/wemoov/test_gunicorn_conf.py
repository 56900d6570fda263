"""The gunicorn hooks of `wemoov/gunicorn_conf.py`."""

import gc

from wemoov import gunicorn_conf


def test_a_worker_freezes_what_it_loaded_so_full_collections_skip_it():
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        gunicorn_conf.post_worker_init(worker=None)
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # Django, DRF, the apps and pytest are all loaded here
        assert frozen > len(gc.get_objects())  # what a full collection still walks is what came after
    finally:
        gc.unfreeze()
