"""Manufacturer use cases (issue #5, part 1): profiles, vetting with an NDA,
suspension, and the daily partner score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import attrs
from attrs import frozen

from caratzon_core.access import Action, Actor, Resource, decide
from caratzon_core.accounts import Role, User, clean_text
from caratzon_core.audit import AuditRecord, Outcome
from caratzon_core.errors import Forbidden, NotFound, ValidationFailed
from caratzon_core.manufacturers import (
    SCORE_WINDOW,
    LabourPrice,
    Manufacturer,
    Vetting,
    parse_metals_worked,
    parse_processes,
    parse_regions,
    partner_score,
    profile_numbers,
    suspend,
    vet,
)
from caratzon_core.money import Money
from caratzon_core.ports import UnitOfWork
from caratzon_core.services.audit import AuditTrail
from caratzon_core.services.deps import Client, Deps


@frozen
class ProfileInput:
    processes: Sequence[str]
    metals: Sequence[str]
    min_quantity: object
    max_quantity: object
    weekly_capacity: object
    lead_time_days: object
    ships_to: Sequence[str]
    labour_per_piece: str
    labour_per_stone: str
    currency: str
    name: str | None = None  # the workshop's name; the account's business name by default


def parse_date(raw: object, field: str) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise ValidationFailed(f"{raw!r} is not a date (YYYY-MM-DD).", field=field) from None


class ManufacturerService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps
        self._trail = AuditTrail(deps.clock, deps.signer)

    def _audit(self, uow: UnitOfWork, actor: Actor, action: str, subject: str, client: Client,
               detail: Mapping[str, str] | None = None, outcome: str = Outcome.SUCCESS) -> None:
        self._trail.record(uow, AuditRecord(actor.id, action, subject, outcome, client.address, dict(detail or {})))

    def _deny(self, actor: Actor, action: Action, resource: Resource, client: Client) -> None:
        decision = decide(actor, action, resource)
        if decision.allowed:
            return
        with self._d.uow() as uow:
            self._audit(uow, actor, str(action), f"{resource.kind}:{resource.id or '-'}", client,
                        {"reason": decision.reason}, Outcome.DENIED)
            uow.commit()
        raise Forbidden(decision.reason)

    def _manufacturer_user(self, uow: UnitOfWork, user_id: str) -> User:
        user = uow.users.get(user_id)
        if user is None or user.role is not Role.MANUFACTURER:
            raise NotFound("No such manufacturer account.")
        return user

    def save_profile(self, actor: Actor, user_id: str, inp: ProfileInput, client: Client = Client()) -> Manufacturer:
        """Create or change what the workshop can do; vetting and the NDA are kept."""
        self._deny(actor, Action.MANUFACTURER_PROFILE_EDIT, Resource("manufacturer", user_id, user_id), client)
        problems: list[ValidationFailed] = []
        parsed: dict[str, object] = {}

        def attempt(name: str, fn: object) -> None:
            try:
                parsed[name] = fn()  # type: ignore[operator]
            except ValidationFailed as err:
                problems.append(err)

        attempt("processes", lambda: parse_processes(inp.processes))
        attempt("metals", lambda: parse_metals_worked(inp.metals))
        attempt("ships_to", lambda: parse_regions(inp.ships_to))
        attempt("numbers", lambda: profile_numbers(min_quantity=inp.min_quantity, max_quantity=inp.max_quantity,
                                                   weekly_capacity=inp.weekly_capacity,
                                                   lead_time_days=inp.lead_time_days))

        def labour() -> LabourPrice:
            per_piece = Money.parse(inp.labour_per_piece, inp.currency, field_name="labour_per_piece")
            per_stone = Money.parse(inp.labour_per_stone or "0", inp.currency, field_name="labour_per_stone")
            return LabourPrice(per_piece, per_stone)

        attempt("labour", labour)
        if inp.name is not None:
            attempt("name", lambda: clean_text(inp.name, field="name", max_length=200, required=True))
        if problems:
            raise ValidationFailed.collect(problems)
        numbers: tuple[int, int, int, int] = parsed["numbers"]  # type: ignore[assignment]
        min_q, max_q, capacity, lead = numbers
        now = self._d.clock.now()
        with self._d.uow() as uow:
            user = self._manufacturer_user(uow, user_id)
            existing = uow.manufacturers.get(user_id)
            fields: dict[str, Any] = dict(
                name=str(parsed.get("name") or (existing.name if existing else None) or user.business_name
                         or user.name),
                processes=parsed["processes"], metals=parsed["metals"], min_quantity=min_q, max_quantity=max_q,
                weekly_capacity=capacity, lead_time_days=lead, ships_to=parsed["ships_to"], labour=parsed["labour"],
                updated_at=now,
            )
            if existing is None:
                profile = Manufacturer(user_id=user_id, current_load=0, **fields)
                uow.manufacturers.add(profile)
            else:
                profile = attrs.evolve(existing, **fields)
                uow.manufacturers.update(profile)
            self._audit(uow, actor, "manufacturer.profile", f"user:{user_id}", client)
            uow.commit()
        return profile

    def profile(self, actor: Actor, user_id: str) -> Manufacturer | None:
        if actor.id != user_id:
            self._deny(actor, Action.MANUFACTURER_LIST, Resource("manufacturer", user_id), Client())
        with self._d.uow() as uow:
            return uow.manufacturers.get(user_id)

    def list(self, actor: Actor, *, vetting: str | None = None) -> list[Manufacturer]:
        self._deny(actor, Action.MANUFACTURER_LIST, Resource("manufacturer"), Client())
        status = None
        if vetting:
            try:
                status = Vetting(vetting)
            except ValueError:
                raise ValidationFailed("Vetting is pending, vetted or suspended.", field="vetting") from None
        with self._d.uow() as uow:
            return uow.manufacturers.list(vetting=status)

    def _find(self, uow: UnitOfWork, who: str) -> Manufacturer:
        user = uow.users.get_by_email(who.strip().lower()) if "@" in who else uow.users.get(who)
        if user is None or user.role is not Role.MANUFACTURER:
            raise NotFound(f"No manufacturer account {who!r}.")
        profile = uow.manufacturers.get(user.id)
        if profile is None:
            raise NotFound(f"{who} has not filled in a manufacturer profile yet; it cannot be vetted.")
        return profile

    def vet(self, actor: Actor, who: str, *, nda_until: object, nda_signed_on: object | None = None,
            client: Client = Client()) -> Manufacturer:
        """Vet (or re-vet) a manufacturer, by id or email, with the NDA's dates."""
        self._deny(actor, Action.MANUFACTURER_VET, Resource("manufacturer"), client)
        now = self._d.clock.now()
        until = parse_date(nda_until, "nda_until")
        signed = parse_date(nda_signed_on, "nda_signed_on") if nda_signed_on not in (None, "") else now.date()
        with self._d.uow() as uow:
            profile = self._find(uow, who)
            vetted = vet(profile, by=actor.id, now=now, nda_signed_on=signed, nda_expires_on=until)
            uow.manufacturers.update(vetted)
            self._audit(uow, actor, "manufacturer.vet", f"user:{profile.user_id}", client,
                        {"nda_signed_on": signed.isoformat(), "nda_until": until.isoformat()})
            uow.commit()
        return vetted

    def suspend(self, actor: Actor, who: str, *, reason: str, client: Client = Client()) -> Manufacturer:
        """Suspension cuts production-file access at once (every link is checked
        against the current vetting)."""
        self._deny(actor, Action.MANUFACTURER_VET, Resource("manufacturer"), client)
        text = clean_text(reason, field="reason", max_length=1000, required=True) or ""
        now = self._d.clock.now()
        with self._d.uow() as uow:
            profile = self._find(uow, who)
            suspended = suspend(profile, by=actor.id, now=now)
            uow.manufacturers.update(suspended)
            self._audit(uow, actor, "manufacturer.suspend", f"user:{profile.user_id}", client, {"reason": text})
            uow.commit()
        return suspended

    def rescore(self, actor: Actor, client: Client = Client()) -> int:
        """Recompute every partner score from the last six months of completed jobs
        (the worker runs this daily); returns how many changed."""
        self._deny(actor, Action.WORKER_RUN, Resource("manufacturer"), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            jobs = uow.orders.completed_jobs(now - SCORE_WINDOW)
            everyone = {m.user_id: m for m in uow.manufacturers.list()}
            scores = {uid: partner_score(jobs.get(uid, []), now) for uid in everyone}
            # Only scores whose figures moved are written (the computed time alone is no change).
            changed = uow.manufacturers.set_scores({
                uid: score for uid, score in scores.items()
                if attrs.evolve(score, computed_at=None) != attrs.evolve(everyone[uid].score, computed_at=None)
            })
            uow.commit()
        return changed
