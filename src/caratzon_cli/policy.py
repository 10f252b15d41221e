"""`caratzon policy`: privacy-policy versions (issue #6 part 5; policy section 13, P46).

`policy publish FILE --effective YYYY-MM-DD [--material] [--version V]` stores the
file's text as a new version, in force from the effective date (today or later);
a material change queues a notice e-mail to every account that is not closed
(`caratzon outbox deliver`, or the worker, sends them). `policy list` shows every
version with its dates."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from caratzon_cli.output import err, note, out, print_json, table
from caratzon_cli.state import state
from caratzon_core.access import Actor
from caratzon_core.errors import ValidationFailed
from caratzon_core.privacy import MAX_POLICY_CHARS, PolicyVersion
from caratzon_core.services.deps import Client

app = typer.Typer(no_args_is_help=True, help="Privacy-policy versions: publish a new one, or list them.")

CLI_CLIENT = Client(user_agent="caratzon-cli")
# UTF-8 takes at most 4 bytes a character: a bigger file cannot be a valid policy.
MAX_FILE_BYTES = 4 * MAX_POLICY_CHARS


def parse_effective(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed(f"--effective: {raw!r} is not a date (YYYY-MM-DD).", field="effective") from None


def read_text(path: Path) -> str:
    """The policy file's text; one-line errors for a file that is too big or not UTF-8
    (a missing or unreadable file is reported by the CLI's error handler)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ValidationFailed(f"{path.name} is {size:,} bytes; a policy text is at most {MAX_POLICY_CHARS:,} "
                               "characters. Is this the right file?", field="text")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{path.name} is not UTF-8 text.", field="text") from None


def _status(version: PolicyVersion, current: PolicyVersion | None) -> str:
    if current is not None and version.version == current.version:
        return "in force"
    if current is None or version.order_key > current.order_key:
        return "upcoming"
    return "superseded"


def _time(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat(timespec="seconds").replace("+00:00", "Z")


def document(version: PolicyVersion, current: PolicyVersion | None) -> dict[str, object]:
    return {
        "version": version.version,
        "effective_date": version.effective_date.isoformat(),
        "material": version.material,
        "status": _status(version, current),
        "published_at": _time(version.published_at),
        "published_by": version.published_by,
        # The initial version's text ships with the portal and is not stored.
        "text_stored": version.text is not None,
        "characters": len(version.text) if version.text is not None else None,
    }


@app.command("publish")
def publish(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(metavar="FILE", dir_okay=False,
                                         help="The full policy text (UTF-8 plain text).")],
    effective: Annotated[str, typer.Option("--effective", metavar="YYYY-MM-DD",
                                           help="The day it takes effect: today or later (UTC).")],
    material: Annotated[bool, typer.Option("--material", help="A material change: e-mail every account "
                                           "and ask each person to acknowledge it.")] = False,
    version: Annotated[str | None, typer.Option("--version", metavar="V",
                                                help="The version label; the effective date if left out.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stored version as JSON.")] = False,
) -> None:
    """Publish a new privacy-policy version from FILE. Audited.

    Refused: an effective date in the past, a version label (or effective date)
    that exists already, an empty file. With --material, one notice e-mail per
    account that is not closed is queued in the same transaction, in each
    person's language; the portal then shows them a banner until they confirm
    they have read it."""
    day = parse_effective(effective)
    text = read_text(file)
    services = state(ctx).services
    with err().status("Publishing and queuing notices…" if material else "Publishing…"):
        published = services.policy.publish(Actor.cli_operator(), version, text, day, material, CLI_CLIENT)
    stored = published.version
    if as_json:
        print_json({**document(stored, services.policy.current()), "notices_queued": published.notices})
        return
    typer.echo(f"Published privacy policy version {stored.version}, effective {stored.effective_date.isoformat()} "
               f"({'material' if stored.material else 'not material'}).")
    if stored.material:
        typer.echo(f"Queued {published.notices} notice e-mail{'s' if published.notices != 1 else ''}; "
                   "`caratzon outbox deliver` (or the worker) sends them.")
    else:
        note("note: no e-mails for a change that is not material; continued use records acceptance.")


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the versions as JSON.")] = False,
) -> None:
    """List every version, oldest first, with its effective date and status."""
    services = state(ctx).services
    versions = services.policy.versions()
    current = services.policy.current()
    if as_json:
        print_json([document(v, current) for v in versions])
        return
    rows = [(v.version, v.effective_date.isoformat(), "yes" if v.material else "no", _status(v, current),
             _time(v.published_at) or "-", v.published_by or "-") for v in versions]
    out().print(table("Privacy policy versions", ["Version", "Effective", "Material", "Status", "Published",
                                                  "By"], rows))
