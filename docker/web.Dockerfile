# Web tier: Django + DRF under gunicorn, and the events worker (same image, other command). No torch.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
COPY requirements/web.txt requirements/web.txt
RUN pip install -r requirements/web.txt
COPY manage.py ./
COPY config config
COPY accounts accounts
COPY catalog catalog
COPY generation generation
COPY billing billing
COPY frontend frontend
# gpu_worker/spec.py is the shared job contract; the package imports no torch at import time.
COPY gpu_worker/__init__.py gpu_worker/spec.py gpu_worker/
RUN SECRET_KEY=collectstatic-only-$(head -c 48 /dev/urandom | base64 | tr -d '\n') \
    DATABASE_URL=sqlite:////tmp/x.sqlite3 python manage.py collectstatic --noinput
RUN useradd --uid 10001 --no-create-home gasang
USER gasang
EXPOSE 8000
# gthread: 4 threads per worker, so a request waiting on a job (Prefer: wait, at most 1 per process by default)
# never blocks a whole worker; see README "API".
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--worker-class", "gthread", "--threads", "4", "--timeout", "75", "--access-logfile", "-", "--logger-class", "config.gunicorn_logging.GunicornLogger"]
