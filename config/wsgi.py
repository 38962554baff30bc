import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_wsgi_application()

# gunicorn runs no system checks: refuse to serve a production configuration that would log reset links or
# keep throttle counters per worker (accounts/checks.py).
from accounts.checks import refuse_to_start_on_errors  # noqa: E402

refuse_to_start_on_errors()
