"""Settings shared by every environment. Environment input comes only from ``config.env.ENV``."""

from __future__ import annotations

import dj_database_url
from kombu import Queue

from config.env import BASE_DIR, ENV
from core.objectstore import storage_backend
from gpu_worker.spec import QUEUE_DEFAULT, QUEUE_EVENTS, QUEUE_GPU, QUEUE_WEBHOOKS, broker_transport_options

VAR_DIR = ENV.var_dir
SECRET_KEY = ENV.secret_key
DEBUG = ENV.debug
ALLOWED_HOSTS = ENV.allowed_hosts
CSRF_TRUSTED_ORIGINS = ENV.csrf_trusted_origins

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # ReDoc / Swagger UI as static files: the docs page loads nothing from a CDN
    "core",
    "accounts",
    "catalog",
    "generation",
    "billing",
    "frontend",
]

MIDDLEWARE = [
    "core.health.HealthCheckMiddleware",  # /healthz for probes over plain http: before the https redirect
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "core.request_checks.RejectNulMiddleware",  # 400 for NUL in path, query or JSON body (PostgreSQL refuses it)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "frontend.context_processors.current_store",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        ENV.database_url or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Embedded mode: the web server's threads and three worker processes write one file. A deferred transaction
    # that reads and then writes fails at once ("database is locked", no waiting) when another process wrote in
    # between; IMMEDIATE takes the write lock up front and waits its turn. WAL lets readers go on meanwhile.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache shared by every web process: API rate-limit counters and Prefer: wait slots (accounts/throttling.py,
# generation/waiting.py). Redis when REDIS_URL is set (production, tests); embedded mode runs one web process,
# where a memory cache is enough. Short socket timeouts: a Redis outage must not hang requests (callers fail open).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": ENV.redis_url,
        "KEY_PREFIX": f"gasang:{ENV.celery_key_prefix}",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    if ENV.redis_url
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "gasang"}
}

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["accounts.login_throttle.ThrottledModelBackend"]
# Login throttling (accounts/login_throttle.py): this many failures per account / per client IP within
# LOGIN_LOCKOUT_SECONDS lock that account / address for LOGIN_LOCKOUT_SECONDS. The client IP honours
# REST_FRAMEWORK["NUM_PROXIES"] (API_NUM_PROXIES) like the API rate limits.
LOGIN_MAX_FAILURES_PER_ACCOUNT = ENV.login_max_failures_per_account
LOGIN_MAX_FAILURES_PER_IP = ENV.login_max_failures_per_ip
LOGIN_LOCKOUT_SECONDS = ENV.login_lockout_seconds
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", "한국어"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "frontend" / "locale"]
TIME_ZONE = "Asia/Seoul"
FORMAT_MODULE_PATH = ["frontend.formats"]  # Korean dates as "2026. 12. 2. 15:46", not Django's "2026-12-2 15:46"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

STORAGES = {
    "default": storage_backend(ENV, MEDIA_ROOT),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
S3_PRESIGN_SECONDS = ENV.s3_presign_seconds

EMAIL_BACKEND = ENV.email_backend or "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = ENV.email_host
EMAIL_PORT = ENV.email_port
EMAIL_HOST_USER = ENV.email_host_user
EMAIL_HOST_PASSWORD = ENV.email_host_password
EMAIL_USE_TLS = True
DEFAULT_FROM_EMAIL = ENV.default_from_email

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.throttling.FailedAuthGuard",  # first: an address over its failed-auth limit gets 429
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StoreCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    "DEFAULT_METADATA_CLASS": "core.api_metadata.ApiMetadata",  # OPTIONS: methods and media types, no fields
    # Rate limits (accounts/throttling.py): 429 + Retry-After once a bucket is full for the current window.
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttling.JobCreateRateThrottle",
        "accounts.throttling.TokenRateThrottle",
        "accounts.throttling.StoreRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "job_create": ENV.api_rate_job_create,
        "token": ENV.api_rate_token,
        "store": ENV.api_rate_store,
        "auth_failures": ENV.api_rate_auth_failures,
        "public_check": ENV.api_rate_public_check,
    },
    "NUM_PROXIES": ENV.api_num_proxies,
}
PREFER_WAIT_MAX_SECONDS = ENV.prefer_wait_max_seconds
PREFER_WAIT_PER_PROCESS = ENV.prefer_wait_per_process
PREFER_WAIT_PER_STORE = ENV.prefer_wait_per_store
SPECTACULAR_SETTINGS = {
    "TITLE": "Gasang API",
    # Korea's AI Basic Act, Art. 31(1): users are told in advance that the service uses generative AI.
    "DESCRIPTION": (
        "Virtual model faces for online stores: presets, product shots, faces and generation jobs.\n\n"
        "**Generative AI.** Gasang uses generative AI: it makes virtual faces and puts them into your photos. "
        "Every result is marked as AI-generated in its metadata (and visibly, when the store turns the mark on); "
        "where the law asks, tell your customers a photo was made with AI (Korea's AI Basic Act, Art. 31).\n\n"
        "**생성형 AI 고지.** 가상은 생성형 AI를 씁니다. 가상 얼굴을 만들어 "
        "사진 속 얼굴을 그 얼굴로 바꿉니다. 모든 결과물의 메타데이터에 AI 생성물임을 "
        "표시하고(스토어가 켜면 눈에 보이는 표시도 넣습니다), 법이 요구하는 곳에서는 "
        "고객에게 AI로 만든 사진임을 알려 주세요(인공지능기본법 제31조)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: JSON only, no result backend (job state lives in the database), late acks and
# prefetch 1 so a crashed worker's message is redelivered instead of lost.
CELERY_BROKER_URL = ENV.celery_broker_url or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(
    CELERY_BROKER_URL, str(VAR_DIR), ENV.celery_key_prefix, ENV.celery_visibility_timeout
)
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_DEFAULT_QUEUE = QUEUE_DEFAULT
CELERY_TASK_QUEUES = [Queue(QUEUE_GPU), Queue(QUEUE_EVENTS), Queue(QUEUE_DEFAULT), Queue(QUEUE_WEBHOOKS)]
CELERY_TASK_ROUTES = {"generation.deliver_webhook": {"queue": QUEUE_WEBHOOKS}}  # retries stay on that queue too
CELERY_TASK_ALWAYS_EAGER = ENV.celery_always_eager
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    # Overage that Stripe did not accept yet (network, outage) is retried until it is reported once.
    "report-pending-meter-events": {"task": "billing.report_pending_meter_events", "schedule": 300.0},
    # Direct uploads whose presigned URL expired: unconfirmed shots and whatever was uploaded to their keys.
    "expire-direct-uploads": {"task": "catalog.expire_direct_uploads", "schedule": 600.0},
}

STRIPE_SECRET_KEY = ENV.stripe_secret_key
STRIPE_WEBHOOK_SECRET = ENV.stripe_webhook_secret
STRIPE_API_VERSION = ENV.stripe_api_version
STRIPE_API_BASE = ENV.stripe_api_base
STRIPE_METER_EVENT_NAME = ENV.stripe_meter_event_name
BILLING_GRACE_DAYS = ENV.billing_grace_days
# A running job not heard from (heartbeat, progress) for this long is queued again by the outbox relay.
JOB_LEASE_SECONDS = ENV.job_lease_seconds

# Outgoing webhooks (generation/webhooks.py, generation/webhook_http.py). Secrets are stored encrypted with
# WEBHOOK_SECRET_KEY (production requires one; elsewhere a fixed development key). Deliveries go only to https://
# URLs on public addresses; local and test settings also allow http:// and loopback (production never does).
WEBHOOK_SECRET_KEY = ENV.webhook_secret_key or "development-only-webhook-secret-key-not-secret"
WEBHOOK_ALLOW_HTTP = False
WEBHOOK_ALLOW_LOOPBACK = False
WEBHOOK_CONNECT_TIMEOUT = ENV.webhook_connect_timeout
WEBHOOK_READ_TIMEOUT = ENV.webhook_read_timeout
WEBHOOK_MAX_ENDPOINTS = ENV.webhook_max_endpoints  # per store; creating one more answers 400
WEBHOOK_MAX_IN_FLIGHT = ENV.webhook_max_in_flight  # deliveries of one store being sent at once; the rest wait

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Invitation and password-reset secrets in logged URLs become [redacted] (core/log_redaction.py).
    "filters": {"redact_secrets": {"()": "core.log_redaction.RedactSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}},
    "root": {"handlers": ["console"], "level": ENV.log_level},
}

# The photos `make run` seeds the demo store from (used in place, never copied into the repository); absent on a
# machine without ../shared, and then the demo starts empty (generation/demo.py).
DEMO_PHOTOS_DIR = ENV.demo_photos_dir

# The certificates (PEM file) whose content credentials the verification page calls Gasang's own: the operator's
# signing CA (the GPU workers sign with GASANG_C2PA_CERT / GASANG_C2PA_KEY). Empty: signatures are checked, but no
# signer is trusted.
C2PA_TRUST_ANCHORS_FILE = ENV.c2pa_trust_anchors
