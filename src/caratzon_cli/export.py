"""`caratzon export EMAIL`: the access and portability export, for an operator
working an access or portability request (issue #6, part 2).

Builds the person's ``caratzon.export/1`` JSON and the zip of the files they
uploaded, stores it and prints the signed link (valid 24 hours) to send them;
``--out FILE`` also writes the zip to a local file. Audited like every export.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from caratzon_cli.output import note, print_json
from caratzon_cli.state import state
from caratzon_cli.users import CLI_CLIENT
from caratzon_core.access import Actor
from caratzon_core.accounts import normalize_email
from caratzon_core.errors import NotFound


def export(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The account's email address.")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the zip to this file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Export everything held about a person (policy §9: access, portability)."""
    services = state(ctx).services
    with services.deps.uow() as uow:
        user = uow.users.get_by_email(normalize_email(email))
    if user is None:
        raise NotFound(f"No account with the email {email}.")
    result = services.export.export(Actor.cli_operator(), user.id, CLI_CLIENT)
    if out_file is not None:
        with services.blobs.open(result.key) as src, out_file.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    answer = {"user_id": user.id, "email": user.email, "key": result.key, "url": result.link.url,
              "expires_at": result.link.expires_at.isoformat(), "files": result.files, "size": result.size,
              "sha256": result.sha256, "out": str(out_file) if out_file else None}
    if as_json:
        print_json(answer)
        return
    typer.echo(f"Export of {user.email}: {result.files} file(s), {result.size} bytes (sha256 {result.sha256}).")
    typer.echo(f"Link (expires {answer['expires_at']}): {result.link.url}")
    if out_file is not None:
        note(f"Written to {out_file}.")
