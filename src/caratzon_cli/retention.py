"""`caratzon retention` and `caratzon holds`: the retention engine and legal holds
(issue #6, part 4; policy §8, P30-P34).

``retention plan [--as-of DATE] [--json]`` says, per rule, what a run would delete,
anonymise or aggregate and why each kept item is kept; a future date previews.
``retention apply [--as-of DATE] --yes`` does it in batches with a progress bar;
a future as-of date is refused. An interrupted run is finished by the next one.
``retention runs`` lists the last runs. ``holds place|release|list`` manage legal
holds, which stop erasure and retention for a person.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from caratzon_cli.output import err, note, out, print_json, table
from caratzon_cli.state import state
from caratzon_cli.users import CLI_CLIENT
from caratzon_core.access import Actor
from caratzon_core.errors import ValidationFailed
from caratzon_core.retention import RULE_BY_CODE, Plan, RetentionRun, RuleCode, parse_as_of
from caratzon_core.services.retention import HoldView

app = typer.Typer(no_args_is_help=True, help="The retention engine: plan, apply, past runs (policy §8).")
holds_app = typer.Typer(no_args_is_help=True, help="Legal holds: keep a person's data past erasure and retention.")

KEPT_SHOWN = 20


AsOf = Annotated[str | None, typer.Option("--as-of", metavar="DATE",
                                          help="Apply the rules as of this date (YYYY-MM-DD, UTC); default now.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _print_plan(p: Plan, show_all: bool) -> None:
    rows = []
    for r in p.rules:
        rows.append((r.rule.code.value, r.rule.section, f"{r.cutoff:%Y-%m-%d}", r.due_count, r.kept_count,
                     r.rule.action if r.due_count else "—"))
    out().print(table(f"Retention plan as of {p.as_of:%Y-%m-%d %H:%M} UTC: {p.total_due} due",
                      ["Rule", "§", "Cut-off", "Due", "Kept", "What happens"], rows))
    kept = [(r.rule.code.value, k) for r in p.rules for k in r.kept]
    if kept:
        shown = kept if show_all else kept[:KEPT_SHOWN]
        out().print(table(f"Kept past their period ({len(kept)})", ["Rule", "Item", "Since", "Why"],
                          [(code, f"{k.kind}:{k.id}", f"{k.since:%Y-%m-%d}" if k.since else "",
                            "; ".join(k.reasons)) for code, k in shown]))
        if len(shown) < len(kept):
            note(f"{len(kept) - len(shown)} more kept items: --all shows them, --json lists them.")


@app.command("plan")
def plan_(
    ctx: typer.Context,
    as_of: AsOf = None,
    show_all: Annotated[bool, typer.Option("--all", help="List every kept item.")] = False,
    as_json: Json = False,
) -> None:
    """What a run would do, per rule, and why each item past its period is kept."""
    p = state(ctx).services.retention.plan(Actor.cli_operator(), parse_as_of(as_of, label="--as-of"))
    if as_json:
        print_json(p.to_dict())
        return
    _print_plan(p, show_all)


def _run_line(run: RetentionRun) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items())) or "nothing to do"
    return f"Retention run {run.id} as of {run.as_of:%Y-%m-%d %H:%M} UTC {run.status.value}: {counts}."


@app.command("apply")
def apply_(
    ctx: typer.Context,
    as_of: AsOf = None,
    yes: Annotated[bool, typer.Option("--yes", help="Really delete: without it nothing is done.")] = False,
    as_json: Json = False,
) -> None:
    """Delete, anonymise and aggregate what the plan says is due, in batches."""
    if not yes:
        raise ValidationFailed("retention apply deletes data for good: run `caratzon retention plan` to see what, "
                               "then add --yes.", field="yes")
    moment = parse_as_of(as_of, label="--as-of")
    services = state(ctx).services
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err(),
                  transient=True) as bar:
        tasks: dict[RuleCode, TaskID] = {}

        def progress(rule: RuleCode, done: int, total: int) -> None:
            if rule not in tasks:
                tasks[rule] = bar.add_task(RULE_BY_CODE[rule].title, total=max(total, done) or None)
            bar.update(tasks[rule], completed=done, total=max(total, done) or None)

        run = services.retention.apply(Actor.cli_operator(), moment, progress=progress, client=CLI_CLIENT)
    if as_json:
        print_json(run.to_dict())
        return
    typer.echo(_run_line(run))


@app.command("runs")
def runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="How many runs.")] = 10,
    as_json: Json = False,
) -> None:
    """The last runs, newest first."""
    found = state(ctx).services.retention.runs(Actor.cli_operator(), limit=limit)
    if as_json:
        print_json([r.to_dict() for r in found])
        return
    rows = [(r.id, f"{r.started_at:%Y-%m-%d %H:%M}", f"{r.as_of:%Y-%m-%d}", r.status.value, r.started_by,
             ", ".join(f"{k} {v}" for k, v in sorted(r.counts.items())), r.error or "") for r in found]
    out().print(table(f"{len(found)} retention run(s)", ["Id", "Started", "As of", "Status", "By", "Counts",
                                                         "Error"], rows))


# -- legal holds --------------------------------------------------------------------------------


def hold_json(view: HoldView) -> dict[str, object]:
    h = view.hold
    return {"id": h.id, "user_id": h.user_id, "email": view.email, "reason": h.reason, "placed_by": h.placed_by,
            "placed_at": h.placed_at.isoformat(), "released_by": h.released_by,
            "released_at": h.released_at.isoformat() if h.released_at else None, "release_reason": h.release_reason}


@holds_app.command("place")
def place(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The account's email.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the law requires keeping the data (required).")],
) -> None:
    """Keep a person's data as it is: erasure is refused and retention skips them."""
    hold = state(ctx).services.retention.place_hold(Actor.cli_operator(), email, reason, CLI_CLIENT)
    typer.echo(f"Legal hold {hold.id} placed on {email.strip().lower()}: erasure and retention stop until it is "
               "released.")


@holds_app.command("release")
def release(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The account's email.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the hold ends (required).")],
) -> None:
    """Release the standing hold: the data is again erased or retained on schedule."""
    hold = state(ctx).services.retention.release_hold(Actor.cli_operator(), email, reason, CLI_CLIENT)
    typer.echo(f"Legal hold {hold.id} on {email.strip().lower()} released.")


@holds_app.command("list")
def list_(
    ctx: typer.Context,
    include_released: Annotated[bool, typer.Option("--all", help="Released holds too.")] = False,
    as_json: Json = False,
) -> None:
    """Standing legal holds (with --all, the released ones too)."""
    views = state(ctx).services.retention.holds(Actor.cli_operator(), standing_only=not include_released)
    if as_json:
        print_json([hold_json(v) for v in views])
        return
    rows = [(v.email or v.hold.user_id, v.hold.reason, f"{v.hold.placed_at:%Y-%m-%d}", v.hold.placed_by,
             f"released {v.hold.released_at:%Y-%m-%d}" if v.hold.released_at else "standing") for v in views]
    out().print(table(f"{len(views)} legal hold(s)", ["Person", "Reason", "Placed", "By", "Status"], rows))
