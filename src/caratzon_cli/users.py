"""`caratzon users`: accounts created and listed by an operator at the shell."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Annotated

import typer

from caratzon_adapters.bootstrap import Services
from caratzon_cli.output import out, print_json, table
from caratzon_cli.state import state
from caratzon_core.access import Actor
from caratzon_core.accounts import Language, Role, User
from caratzon_core.requests import request_ref
from caratzon_core.services.accounts import SignUp
from caratzon_core.services.deps import Client

app = typer.Typer(no_args_is_help=True, help="Create and list accounts (any role).")

CLI_CLIENT = Client(user_agent="caratzon-cli")
_PAGE = 500


def _read_password(from_stdin: bool) -> str:
    if sys.stdin.isatty():
        # A person at a terminal: ask without echoing, whatever the flag says.
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    if from_stdin:
        # The first line only, without its line break: spaces are part of a password.
        return sys.stdin.readline().rstrip("\r\n")
    raise typer.BadParameter(
        "pipe the password in and pass --password-stdin (never on the command line)",
        param_hint="'--password-stdin'",
    )


def iter_users(services: Services, actor: Actor) -> Iterator[User]:
    offset = 0
    while True:
        page = services.accounts.list_users(actor, limit=_PAGE, offset=offset)
        yield from page
        if len(page) < _PAGE:
            return
        offset += len(page)


def _summary(user: User) -> dict[str, str]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "language": user.language.value,
    }


@app.command("create")
def create(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Sign-in email (unique, any case).")],
    name: Annotated[str, typer.Option(help="The person's full name.")],
    role: Annotated[Role, typer.Option(case_sensitive=False, help="Any role, admins included.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    business_name: Annotated[str | None, typer.Option(help="Business or trading name.")] = None,
    business_address: Annotated[str | None, typer.Option(help="Business address.")] = None,
    language: Annotated[Language, typer.Option(case_sensitive=False, help="Portal language.")] = Language.EN,
    as_json: Annotated[bool, typer.Option("--json", help="Print the new account as JSON.")] = False,
) -> None:
    """Create an account as the operator and print its id."""
    password = _read_password(password_stdin)
    user = state(ctx).services.accounts.create_user(
        Actor.cli_operator(),
        SignUp(
            email=email,
            password=password,
            name=name,
            role=role.value,
            business_name=business_name,
            business_address=business_address,
            language=language.value,
        ),
        CLI_CLIENT,
    )
    if as_json:
        print_json(_summary(user))
    else:
        typer.echo(user.id)


@app.command("list")
def list_(
    ctx: typer.Context,
    role: Annotated[Role | None, typer.Option(case_sensitive=False, help="Only this role.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List every account (a table, or JSON for scripts)."""
    users = [u for u in iter_users(state(ctx).services, Actor.cli_operator()) if role is None or u.role is role]
    if as_json:
        print_json(
            [
                {
                    **_summary(u),
                    "status": u.status.value,
                    "business_name": u.business_name,
                    "created_at": u.created_at.isoformat(),
                }
                for u in users
            ]
        )
        return
    rows = [
        (u.email, u.name, u.role.value, u.status.value, u.language.value, f"{u.created_at:%Y-%m-%d}", u.id)
        for u in users
    ]
    out().print(
        table(
            f"{len(users)} account{'s' if len(users) != 1 else ''}",
            ["Email", "Name", "Role", "Status", "Language", "Created", "Id"],
            rows,
        )
    )


@app.command("flag-minor")
def flag_minor(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The account reported as a minor's.")],
    reason: Annotated[str, typer.Option("--reason", help="What was reported, and by whom (required).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Caratzon is for people aged 18 or over (policy §12): restrict the account at
    once and queue an urgent erasure request for it (see `caratzon dsr list`)."""
    opened = state(ctx).services.requests.flag_minor(Actor.cli_operator(), email, reason, CLI_CLIENT)
    r = opened.request
    if as_json:
        print_json({"user_id": r.user_id, "status": "restricted", "request_id": r.id, "reference": request_ref(r.id),
                    "merged_into_existing": opened.merged, "due_at": r.due_at.isoformat()})
        return
    typer.echo(f"{email.strip().lower()} is restricted; erasure request {request_ref(r.id)} is first in the queue "
               f"(due {r.due_at:%Y-%m-%d}).")
