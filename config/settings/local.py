"""Development: `make run`. Embedded defaults, e-mails printed to the console.

The demo runs as people will see it: DEBUG is off (Chinese error pages, no stack traces) unless
a developer asks for debug pages with DEBUG=1."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=False)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# With DEBUG off Django no longer serves static files; WhiteNoise does, from STATIC_ROOT
# (run_tracker collects them) and, should a developer start the site without collecting
# (`manage.py runserver`), straight from the apps' static folders.
WHITENOISE_USE_FINDERS = True
