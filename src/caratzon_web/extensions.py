"""Flask extensions, created unbound and ``init_app``-ed by :func:`create_app`."""

from __future__ import annotations

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
