"""WSGI entry point (gunicorn wemoov.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wemoov.settings")

application = get_wsgi_application()
