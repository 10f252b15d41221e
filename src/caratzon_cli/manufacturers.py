"""`caratzon manufacturers`: vetting with an NDA, suspension, the list, and the
partner scores (issue #5)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import typer

from caratzon_adapters.bootstrap import Services
from caratzon_cli.output import err, out, print_json, table
from caratzon_cli.state import state
from caratzon_cli.users import iter_users
from caratzon_cli.worker import worker_actor
from caratzon_core.access import Actor
from caratzon_core.manufacturers import Manufacturer, Vetting

app = typer.Typer(no_args_is_help=True, help="Vet, suspend and list manufacturers; recompute partner scores.")


def emails(services: Services, actor: Actor) -> dict[str, str]:
    """Every account's email by user id (manufacturer ids are user ids)."""
    return {u.id: u.email for u in iter_users(services, actor)}


def _rate(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def summary(m: Manufacturer, email: str | None) -> dict[str, object]:
    score = m.score
    return {
        "id": m.user_id,
        "email": email,
        "name": m.name,
        "vetting": m.vetting.value,
        "vetted_by": m.vetted_by,
        "vetted_at": m.vetted_at.isoformat() if m.vetted_at else None,
        "nda_signed_on": m.nda_signed_on.isoformat() if m.nda_signed_on else None,
        "nda_expires_on": m.nda_expires_on.isoformat() if m.nda_expires_on else None,
        "processes": sorted(p.value for p in m.processes),
        "metals": sorted(m.metals),
        "min_quantity": m.min_quantity,
        "max_quantity": m.max_quantity,
        "weekly_capacity": m.weekly_capacity,
        "current_load": m.current_load,
        "lead_time_days": m.lead_time_days,
        "ships_to": sorted(m.ships_to),
        "labour": {
            "currency": m.labour.per_piece.currency,
            "per_piece": str(m.labour.per_piece.to_decimal()),
            "per_stone": str(m.labour.per_stone.to_decimal()),
        },
        "score": {
            "jobs": score.jobs,
            "on_probation": score.on_probation,
            "rating": _rate(score.rating),
            "on_time_rate": _rate(score.on_time_rate),
            "qc_failure_rate": _rate(score.qc_failure_rate),
            "responsiveness_hours": _rate(score.responsiveness_hours),
            "computed_at": score.computed_at.isoformat() if score.computed_at else None,
        },
    }


# Short names for the table (the JSON has the codes).
_PROCESS = {"lost_wax_casting": "casting", "resin_printing": "resin print", "wax_printing": "wax print",
            "stone_setting_prong": "prong", "stone_setting_pave": "pavé", "stone_setting_bezel": "bezel",
            "stone_setting_channel": "channel"}
_METAL = {"18k_yellow": "18kY", "18k_white": "18kW", "18k_rose": "18kR", "14k_yellow": "14kY", "14k_white": "14kW",
          "14k_rose": "14kR", "platinum_950": "Pt950", "sterling_silver": "Ag925"}


def processes_text(m: Manufacturer) -> str:
    return ", ".join(sorted(_PROCESS.get(p.value, p.value) for p in m.processes))


def metals_text(m: Manufacturer) -> str:
    return " ".join(sorted(_METAL.get(code, code) for code in m.metals))


def nda_text(m: Manufacturer, today: date) -> str:
    if m.nda_signed_on is None or m.nda_expires_on is None:
        return "none"
    if m.nda_expires_on < today:
        return f"expired {m.nda_expires_on.isoformat()}"
    if m.nda_signed_on > today:
        return f"from {m.nda_signed_on.isoformat()}"
    return f"to {m.nda_expires_on.isoformat()}"


def score_text(m: Manufacturer) -> str:
    s = m.score
    if s.on_probation:
        return f"probation ({s.jobs} job{'s' if s.jobs != 1 else ''})"
    return f"{s.rating} ({s.jobs} jobs)"


@app.command("vet")
def vet_(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(metavar="EMAIL", help="The manufacturer's sign-in email (or user id).")],
    nda_until: Annotated[str, typer.Option("--nda-until", metavar="YYYY-MM-DD", help="The NDA's expiry date.")],
    nda_signed: Annotated[
        str | None,
        typer.Option("--nda-signed", metavar="YYYY-MM-DD", help="When the NDA was signed (default: today)."),
    ] = None,
) -> None:
    """Vet (or re-vet) a manufacturer under an NDA.

    The manufacturer must have filled in a profile. Only a vetted manufacturer
    whose NDA runs through an order's wanted-by date is offered the job and
    reaches its production CAD. Audited."""
    services = state(ctx).services
    m = services.manufacturers.vet(Actor.cli_operator(), who, nda_until=nda_until, nda_signed_on=nda_signed)
    typer.echo(
        f"Vetted {m.name} ({who.strip()}): NDA signed {m.nda_signed_on}, valid until {m.nda_expires_on}."
    )


@app.command("suspend")
def suspend_(
    ctx: typer.Context,
    who: Annotated[str, typer.Argument(metavar="EMAIL", help="The manufacturer's sign-in email (or user id).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")],
) -> None:
    """Suspend a manufacturer: no new jobs, and production CAD closed at once.

    Jobs already assigned stay with them until reassigned (`caratzon route ORDER
    --to ... --reason ...`). Vet again to lift the suspension."""
    services = state(ctx).services
    m = services.manufacturers.suspend(Actor.cli_operator(), who, reason=reason)
    typer.echo(f"Suspended {m.name} ({who.strip()}); their production-file access is closed.")


@app.command("list")
def list_(
    ctx: typer.Context,
    vetting: Annotated[
        Vetting | None, typer.Option("--vetting", case_sensitive=False, help="Only this vetting status.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List manufacturer profiles: vetting, NDA, what they make, capacity, score."""
    services = state(ctx).services
    actor = Actor.cli_operator()
    found = services.manufacturers.list(actor, vetting=vetting.value if vetting else None)
    by_id = emails(services, actor) if found else {}
    if as_json:
        print_json([summary(m, by_id.get(m.user_id)) for m in found])
        return
    today = services.deps.clock.now().date()
    rows = [
        (
            m.name,
            by_id.get(m.user_id, ""),
            m.vetting.value,
            nda_text(m, today),
            processes_text(m),
            metals_text(m),
            f"{m.min_quantity}-{m.max_quantity} pcs, {m.weekly_capacity}/wk, {m.lead_time_days} d",
            " ".join(sorted(m.ships_to)),
            f"{m.labour.per_piece.format()} (+{m.labour.per_stone.to_decimal()}/stone)",
            score_text(m),
        )
        for m in found
    ]
    title = f"{len(found)} manufacturer{'s' if len(found) != 1 else ''}"
    if vetting is not None:
        title += f" ({vetting.value})"
    columns = ["Name", "Email", "Vetting", "NDA", "Processes", "Metals", "Job size, capacity, lead", "Ships to",
               "Labour", "Score"]
    shown = table(title, columns, rows)
    shown.columns[1].no_wrap = True  # an email is copied whole (`vet`, `suspend`, `route --to`); ids: --json
    out().print(shown)


@app.command("rescore")
def rescore(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Recompute every partner score from the last six months of completed jobs.

    The worker does this once per UTC day; run it after correcting job records.
    Only scores whose figures moved are written."""
    services = state(ctx).services
    with err().status("Recomputing partner scores…"):
        changed = services.manufacturers.rescore(worker_actor())
        total = len(services.manufacturers.list(Actor.cli_operator()))
    if as_json:
        print_json({"manufacturers": total, "changed": changed})
        return
    typer.echo(
        f"Recomputed the partner scores of {total} manufacturer{'s' if total != 1 else ''}; {changed} changed."
    )
