"""Asset bytes in and out of the portal.

Out: ``/blobs/<key>`` serves the local blob store's signed links (an S3 store
signs its own links, so there the route answers 404). The store checks the
signature before the expiry, so only a genuine link is ever told it expired.

In: uploads are never read into memory. Werkzeug spools a large multipart part
to a temporary file itself; :func:`spooled_upload` copies that stream chunk by
chunk to a file of our own under ``data_dir/tmp``, hands the path to the use
case and deletes the file afterwards, whatever happened.

Request bodies are capped at ``MAX_CONTENT_LENGTH`` (the largest asset plus
1 MB for the other form fields) only on the upload endpoints; every other
request keeps the 1 MB cap (:func:`limit_request_body`).
"""

from __future__ import annotations

import contextlib
import math
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import Blueprint, Response, abort, request, send_file
from werkzeug.datastructures import FileStorage

from caratzon_adapters.blobs.local import LinkCheck, LocalBlobStore
from caratzon_core.errors import ValidationFailed
from caratzon_core.services.designs import Upload
from caratzon_web.context import services
from caratzon_web.errors import api_error, error_page

bp = Blueprint("blobs", __name__)

MB = 1024 * 1024
MAX_BODY_BYTES = MB  # everything but an upload
FORM_ALLOWANCE = MB  # an upload's other fields and multipart framing
CHUNK = MB
# The endpoints that take a file: only they may receive bodies above 1 MB. (The
# API's message route lifts its own cap: api_licensing._allow_attachments.)
UPLOAD_ENDPOINTS = frozenset({"studio.upload", "api_designs.upload_asset",
                              "trade.post_negotiation_message", "trade.post_message",
                              "production.post_message"})

_STATUS = {"invalid": 403, "expired": 403, "missing": 404}
_TITLES = {"invalid": "Link not valid", "expired": "Link expired", "missing": "File not found"}


def max_upload_body(max_cad_mb: int, max_image_mb: int) -> int:
    """``MAX_CONTENT_LENGTH``: the largest asset the settings allow plus 1 MB."""
    return max(max_cad_mb, max_image_mb) * MB + FORM_ALLOWANCE


def limit_request_body() -> None:
    """``before_request``, registered ahead of the CSRF check (which reads forms)."""
    if request.endpoint not in UPLOAD_ENDPOINTS:
        request.max_content_length = MAX_BODY_BYTES


# -- in ----------------------------------------------------------------------------------


@contextlib.contextmanager
def spooled_upload(file: FileStorage | None, *, kind: str, visibility: str) -> Iterator[Upload]:
    """The uploaded file as an :class:`Upload` whose ``path`` is a private copy
    under ``data_dir/tmp``, deleted when the block ends."""
    if file is None or not file.filename:
        raise ValidationFailed("Choose a file to upload.", field="file")
    work = services().config.data_dir / "tmp"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=work, prefix="upload-", suffix=".part", delete=False) as out:
        path = Path(out.name)
        try:
            shutil.copyfileobj(file.stream, out, CHUNK)
        except BaseException:
            out.close()
            path.unlink(missing_ok=True)
            raise
    try:
        yield Upload(filename=file.filename, path=path, kind=kind, visibility=visibility or "preview")
    finally:
        path.unlink(missing_ok=True)


# -- out ---------------------------------------------------------------------------------


def _wants_json() -> bool:
    """API clients that ask for JSON get the refusal as JSON; browsers get a page."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _refuse(check: LinkCheck) -> Response | tuple[str, int]:
    status = _STATUS.get(check.code, 403)
    if _wants_json():
        return api_error(status, "link_" + check.code, check.reason)
    return error_page(status, _TITLES.get(check.code, "Not allowed"), check.reason)


@bp.get("/blobs/<path:key>")
def serve(key: str) -> Response | tuple[str, int]:
    store = services().blobs
    if not isinstance(store, LocalBlobStore):
        abort(404)  # an S3 store's links point at S3, never here
    check = store.verify_link(key, request.args.to_dict())
    if not check.ok or check.path is None:
        return _refuse(check)
    response = send_file(check.path, mimetype=check.content_type or "application/octet-stream", etag=True,
                         conditional=True, max_age=None)
    response.headers["Content-Disposition"] = check.content_disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A browser may reuse the file only while the link is still valid, and no shared cache may.
    remaining = int(request.args["exp"]) - services().deps.clock.now().timestamp()
    response.headers["Cache-Control"] = f"private, max-age={max(0, math.floor(remaining))}"
    return response
