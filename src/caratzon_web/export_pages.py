"""``POST /privacy/export`` (issue #6, part 2): the Privacy Center's "Download my
data" button. CSRF-checked (the app's CSRF protection), logged in only; builds the
export and redirects the browser to its signed link (24 hours), so the download
starts at once. ``?show=1`` shows the link instead, for copying."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template_string, request
from werkzeug.wrappers import Response as BaseResponse

from caratzon_web.context import client, current_user, login_required, services
from caratzon_web.errors import iso_utc

bp = Blueprint("export_pages", __name__)

_SHOW = """{% extends "base.html" %}
{% block title %}Your data export{% endblock %}
{% block content %}
<h1>Your data export</h1>
<p>Your export is ready: <a href="{{ url }}" rel="noopener">download the zip</a>
({{ files }} uploaded file{{ '' if files == 1 else 's' }}, {{ size }} bytes).</p>
<p>The link works until {{ expires_at }} (24 hours). The format is documented as
<code>caratzon.export/1</code>.</p>
{% endblock %}
"""


@bp.post("/privacy/export")
@login_required
def export() -> BaseResponse | str:
    user = current_user()
    assert user is not None  # login_required
    svc = services()
    result = svc.export.export(svc.accounts.actor_for(user), user.id, client())
    if request.form.get("show") or request.args.get("show"):
        return render_template_string(_SHOW, url=result.link.url, files=result.files, size=result.size,
                                      expires_at=iso_utc(result.link.expires_at))
    return redirect(result.link.url, code=303)
