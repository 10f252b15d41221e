"""Account use cases: sign-up, login with throttling, API tokens, rectification,
designer profiles and closing an account."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import TypeVar

import attrs
from attrs import frozen

from caratzon_core.access import Action, Actor, Resource, decide
from caratzon_core.accounts import (
    MAX_BUSINESS_FIELD_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PROFILE_FIELD_LENGTH,
    SELF_SIGN_UP_ROLES,
    DesignerProfile,
    Language,
    Role,
    User,
    UserStatus,
    check_adult,
    check_password_shape,
    clean_text,
    normalize_email,
    parse_language,
    parse_role,
)
from caratzon_core.audit import AuditRecord, Outcome
from caratzon_core.credentials import TOKEN_PREFIX, ApiToken, LoginAttempt, ThrottleKey, token_digest
from caratzon_core.designs import DesignStatus, transition
from caratzon_core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    Throttled,
    Unauthenticated,
    ValidationFailed,
)
from caratzon_core.ports import UnitOfWork
from caratzon_core.privacy import PolicyAcceptance, PolicyVersion
from caratzon_core.services.audit import AuditTrail
from caratzon_core.services.deps import Client, Deps
from caratzon_core.throttle import active_lock

T = TypeVar("T")

BAD_CREDENTIALS = "Email or password is incorrect."
BAD_TOKEN = "The token is invalid, expired or revoked."


@frozen
class SignUp:
    email: str
    password: str
    name: str
    role: str
    date_of_birth: date | None = None
    business_name: str | None = None
    business_address: str | None = None
    accept_policy_version: str | None = None
    language: str = Language.EN.value


@frozen
class AccountChanges:
    """Rectification (P36): only the fields given (not ``None``) change."""

    name: str | None = None
    business_name: str | None = None
    business_address: str | None = None
    language: str | None = None
    # P40: object to (True) or allow again (False) AI processing of one's data.
    object_to_ai: bool | None = None


@frozen
class IssuedToken:
    token: str = attrs.field(repr=False)
    record: ApiToken


def session_stamp(user: User) -> str:
    """A fingerprint a browser session carries: it changes when the password does,
    which ends every other session."""
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:32]


def _actor(user: User) -> Actor:
    return Actor(id=user.id, role=user.role, status=user.status)


class AccountService:
    def __init__(self, deps: Deps) -> None:
        self._d = deps
        self._trail = AuditTrail(deps.clock, deps.signer)
        # A real hash to verify against when the email is unknown, so that a
        # missing account answers as slowly as a wrong password.
        self._dummy_hash: str | None = None

    # -- helpers -------------------------------------------------------------------

    def actor_for(self, user: User) -> Actor:
        return _actor(user)

    def _audit(
        self,
        uow: UnitOfWork,
        actor: str,
        action: str,
        subject: str,
        outcome: str,
        client: Client,
        detail: Mapping[str, str] | None = None,
    ) -> None:
        self._trail.record(
            uow,
            AuditRecord(actor, action, subject, outcome, client.address, dict(detail or {})),
        )

    def _deny(self, actor: Actor | None, action: Action, resource: Resource, client: Client) -> None:
        """Check the policy; a denial is audited in its own transaction, then raised."""
        decision = decide(actor, action, resource)
        if decision.allowed:
            return
        with self._d.uow() as uow:
            self._audit(
                uow,
                actor.id if actor else "anonymous",
                str(action),
                f"{resource.kind}:{resource.id or '-'}",
                Outcome.DENIED,
                client,
                {"reason": decision.reason},
            )
            uow.commit()
        raise Forbidden(decision.reason)

    def _check_password_strength(self, password: str, inputs: list[str | None]) -> None:
        weakness = self._d.strength.weakness(password, [i for i in inputs if i])
        if weakness:
            raise ValidationFailed(weakness, field="password")

    # -- sign-up and operator-created accounts ----------------------------------------

    def sign_up(self, cmd: SignUp, client: Client = Client()) -> User:
        """Self sign-up (designer, buyer, manufacturer). 18+ only; records
        acceptance of the current privacy policy."""
        return self._register(cmd, client, by=None)

    def create_user(self, actor: Actor, cmd: SignUp, client: Client = Client()) -> User:
        """An operator creates any role (production managers and admins only this way)."""
        self._deny(actor, Action.USER_CREATE, Resource("account"), client)
        return self._register(cmd, client, by=actor)

    def _register(self, cmd: SignUp, client: Client, *, by: Actor | None) -> User:
        now = self._d.clock.now()
        problems: list[ValidationFailed] = []

        def check(fn: Callable[[], T]) -> T | None:
            try:
                return fn()
            except ValidationFailed as err:
                problems.append(err)
                return None

        email = check(lambda: normalize_email(cmd.email))
        name = check(lambda: clean_text(cmd.name, field="name", max_length=MAX_NAME_LENGTH, required=True))
        role = check(lambda: parse_role(cmd.role))
        if by is None and role is not None and role not in SELF_SIGN_UP_ROLES:
            problems.append(ValidationFailed(
                f"The role '{role}' cannot be chosen at sign-up; an operator creates those accounts.",
                field="role",
            ))
        business_name = check(lambda: clean_text(
            cmd.business_name, field="business_name", max_length=MAX_BUSINESS_FIELD_LENGTH, required=False
        ))
        business_address = check(lambda: clean_text(
            cmd.business_address, field="business_address", max_length=MAX_BUSINESS_FIELD_LENGTH,
            required=False,
        ))
        language = check(lambda: parse_language(cmd.language or Language.EN.value))
        password = check(lambda: check_password_shape(cmd.password))
        if by is None:
            check(lambda: check_adult(cmd.date_of_birth, now.date()))
        with self._d.uow() as uow:
            policy = uow.policies.current(now)
        if by is None:
            if policy is None:
                raise DomainError("No privacy policy is in force; sign-up is closed.")
            if cmd.accept_policy_version != policy.version:
                problems.append(ValidationFailed(
                    f"You must accept the current privacy policy (version {policy.version}).",
                    field="accept_policy_version",
                ))
        if password is not None:
            check(lambda: self._check_password_strength(password, [email, name, business_name]))
        if problems:
            raise ValidationFailed.collect(problems)
        assert email is not None and name is not None and role is not None
        assert language is not None and password is not None
        password_hash = self._d.hasher.hash(password)
        user = User(
            id=self._d.ids.new_id(),
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            language=language,
            status=UserStatus.ACTIVE,
            business_name=business_name,
            business_address=business_address,
            age_confirmed_at=now,
            created_at=now,
            updated_at=now,
        )
        with self._d.uow() as uow:
            if uow.users.get_by_email(email) is not None:
                raise Conflict("An account with this email already exists.", field="email")
            uow.users.add(user)
            if by is None and policy is not None:
                uow.policies.record_acceptance(PolicyAcceptance(user.id, policy.version, now))
            if role is Role.DESIGNER:
                uow.profiles.upsert(DesignerProfile(user_id=user.id, updated_at=now))
            self._audit(
                uow,
                by.id if by else user.id,
                "account.create" if by else "account.sign_up",
                f"user:{user.id}",
                Outcome.SUCCESS,
                client,
                {"role": role.value, "age_confirmed": "operator" if by else "self-declared 18+"},
            )
            uow.commit()
        return user

    # -- login and throttling -------------------------------------------------------------

    def _locks(self, uow: UnitOfWork, email: str, address: str | None, now: datetime) -> datetime | None:
        repo = uow.login_attempts
        s = self._d.settings
        since = now - max(s.account_throttle.lookback, s.address_throttle.lookback)
        account_attempts = repo.since(ThrottleKey.ACCOUNT, email, since)
        # A successful login clears the account's count; an address's count is not
        # cleared, or an attacker could reset it with an account of their own.
        last_success = max((a.at for a in account_attempts if a.success), default=None)
        account_failures = [
            a.at for a in account_attempts if not a.success and (last_success is None or a.at > last_success)
        ]
        locks = [active_lock(account_failures, s.account_throttle, now)]
        if address:
            address_failures = [a.at for a in repo.since(ThrottleKey.ADDRESS, address, since) if not a.success]
            locks.append(active_lock(address_failures, s.address_throttle, now))
        ends = [end for end in locks if end is not None]
        return max(ends) if ends else None

    def login(self, email: str, password: str, client: Client = Client()) -> User:
        try:
            key = normalize_email(email)
        except ValidationFailed:
            key = str(email or "").strip().lower()[:254]
        now = self._d.clock.now()
        with self._d.uow() as uow:
            locked = self._locks(uow, key, client.address, now)
            user = uow.users.get_by_email(key) if key else None
        if locked is not None:
            with self._d.uow() as uow:
                self._audit(uow, user.id if user else "anonymous", "account.login",
                            f"user:{user.id}" if user else "user:unknown", Outcome.LOCKED, client,
                            {"locked_until": locked.isoformat()})
                uow.commit()
            raise Throttled(_lock_message(locked), retry_at=locked)

        # Hash work happens outside any transaction: argon2 is slow on purpose.
        if user is None:
            if self._dummy_hash is None:
                self._dummy_hash = self._d.hasher.hash("not-a-real-password-0000")
            self._d.hasher.verify(self._dummy_hash, str(password or ""))
            ok = False
        else:
            ok = bool(password) and self._d.hasher.verify(user.password_hash, str(password))

        with self._d.uow() as uow:
            uow.login_attempts.add(LoginAttempt(ThrottleKey.ACCOUNT, key, now, ok))
            if client.address:
                uow.login_attempts.add(LoginAttempt(ThrottleKey.ADDRESS, client.address, now, ok))
            subject = f"user:{user.id}" if user else "user:unknown"
            actor = user.id if user else "anonymous"
            if not ok:
                self._audit(uow, actor, "account.login", subject, Outcome.FAILURE, client,
                            {"reason": "wrong password" if user else "unknown email"})
                locked = self._locks(uow, key, client.address, now)
                if locked is not None:
                    self._audit(uow, actor, "account.lock", subject, Outcome.LOCKED, client,
                                {"locked_until": locked.isoformat()})
                uow.commit()
                if locked is not None:
                    raise Throttled(_lock_message(locked), retry_at=locked)
                raise Unauthenticated(BAD_CREDENTIALS)
            assert user is not None
            if not user.can_log_in:
                self._audit(uow, actor, "account.login", subject, Outcome.DENIED, client,
                            {"reason": "account closed"})
                uow.commit()
                raise Unauthenticated("This account is closed.")
            if self._d.hasher.needs_rehash(user.password_hash):
                user = attrs.evolve(user, password_hash=self._d.hasher.hash(str(password)))
                uow.users.update(user)
            self._audit(uow, actor, "account.login", subject, Outcome.SUCCESS, client)
            uow.commit()
        return user

    def logout(self, user_id: str, client: Client = Client()) -> None:
        with self._d.uow() as uow:
            self._audit(uow, user_id, "account.logout", f"user:{user_id}", Outcome.SUCCESS, client)
            uow.commit()

    # -- API tokens --------------------------------------------------------------------------

    def issue_token(self, email: str, password: str, client: Client = Client(), label: str = "") -> IssuedToken:
        user = self.login(email, password, client)
        actor = _actor(user)
        self._deny(actor, Action.TOKEN_ISSUE, Resource("token", owner_id=user.id), client)
        now = self._d.clock.now()
        secret = TOKEN_PREFIX + self._d.ids.new_secret()
        record = ApiToken(
            id=self._d.ids.new_id(),
            user_id=user.id,
            digest=token_digest(secret),
            created_at=now,
            expires_at=now + self._d.settings.token_ttl,
            label=(label or "")[:100],
        )
        with self._d.uow() as uow:
            uow.tokens.add(record)
            self._audit(uow, user.id, "token.issue", f"token:{record.id}", Outcome.SUCCESS, client,
                        {"expires_at": record.expires_at.isoformat()})
            uow.commit()
        return IssuedToken(secret, record)

    def authenticate_token(self, token: str) -> tuple[User, ApiToken]:
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            raise Unauthenticated(BAD_TOKEN)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            record = uow.tokens.get_by_digest(token_digest(token))
            if record is None or not record.usable_at(now):
                raise Unauthenticated(BAD_TOKEN)
            user = uow.users.get(record.user_id)
        if user is None or not user.can_log_in:
            raise Unauthenticated(BAD_TOKEN)
        return user, record

    def revoke_token(self, actor: Actor, token_id: str, client: Client = Client()) -> None:
        with self._d.uow() as uow:
            found = uow.tokens.get(token_id)
        if found is None:
            raise NotFound("No such token.")
        self._deny(actor, Action.TOKEN_REVOKE, Resource("token", token_id, found.user_id), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            current = uow.tokens.get(token_id)
            if current is not None and current.revoked_at is None:
                uow.tokens.update(attrs.evolve(current, revoked_at=now))
            self._audit(uow, actor.id, "token.revoke", f"token:{token_id}", Outcome.SUCCESS, client)
            uow.commit()

    def current_policy(self) -> PolicyVersion | None:
        """The privacy-policy version in force now: what sign-up asks people to accept."""
        with self._d.uow() as uow:
            return uow.policies.current(self._d.clock.now())

    # -- reading and rectifying accounts -------------------------------------------------------

    def get_user(self, actor: Actor, user_id: str, client: Client = Client()) -> User:
        with self._d.uow() as uow:
            user = uow.users.get(user_id)
        if user is None:
            raise NotFound("No such account.")
        self._deny(actor, Action.ACCOUNT_VIEW, Resource("account", user_id, user_id), client)
        return user

    def get_profile(self, user_id: str) -> DesignerProfile | None:
        with self._d.uow() as uow:
            return uow.profiles.get(user_id)

    def update_account(
        self, actor: Actor, user_id: str, changes: AccountChanges, client: Client = Client()
    ) -> User:
        self._deny(actor, Action.ACCOUNT_UPDATE, Resource("account", user_id, user_id), client)
        updates: dict[str, object] = {}
        if changes.name is not None:
            updates["name"] = clean_text(changes.name, field="name", max_length=MAX_NAME_LENGTH, required=True)
        if changes.business_name is not None:
            updates["business_name"] = clean_text(
                changes.business_name, field="business_name", max_length=MAX_BUSINESS_FIELD_LENGTH,
                required=False,
            )
        if changes.business_address is not None:
            updates["business_address"] = clean_text(
                changes.business_address, field="business_address", max_length=MAX_BUSINESS_FIELD_LENGTH,
                required=False,
            )
        if changes.language is not None:
            updates["language"] = parse_language(changes.language)
        if changes.object_to_ai is not None and not isinstance(changes.object_to_ai, bool):
            raise ValidationFailed("'object_to_ai' is true or false.", field="object_to_ai")
        now = self._d.clock.now()
        with self._d.uow() as uow:
            user = uow.users.get(user_id)
            if user is None:
                raise NotFound("No such account.")
            if changes.object_to_ai is not None:
                # The first objection's time stands while the objection does.
                updates["ai_objection_at"] = (user.ai_objection_at or now) if changes.object_to_ai else None
            changed = sorted(k for k, v in updates.items() if getattr(user, k) != v)
            if not changed:
                return user
            user = attrs.evolve(user, updated_at=now, **updates)  # type: ignore[arg-type]
            uow.users.update(user)
            self._audit(uow, actor.id, "account.update", f"user:{user_id}", Outcome.SUCCESS, client,
                        {"fields": ",".join(changed)})
            uow.commit()
        return user

    def update_profile(
        self,
        actor: Actor,
        user_id: str,
        *,
        biography: str | None = None,
        brand_description: str | None = None,
        credentials: str | None = None,
        client: Client = Client(),
    ) -> DesignerProfile:
        self._deny(actor, Action.PROFILE_UPDATE, Resource("profile", user_id, user_id), client)
        now = self._d.clock.now()
        fields = {
            "biography": biography,
            "brand_description": brand_description,
            "credentials": credentials,
        }
        cleaned = {
            k: clean_text(v, field=k, max_length=MAX_PROFILE_FIELD_LENGTH, required=False) or ""
            for k, v in fields.items()
            if v is not None
        }
        with self._d.uow() as uow:
            current = uow.profiles.get(user_id) or DesignerProfile(user_id=user_id)
            profile = attrs.evolve(current, updated_at=now, **cleaned)
            uow.profiles.upsert(profile)
            self._audit(uow, actor.id, "profile.update", f"user:{user_id}", Outcome.SUCCESS, client,
                        {"fields": ",".join(sorted(cleaned))})
            uow.commit()
        return profile

    def change_password(
        self, actor: Actor, current_password: str, new_password: str, client: Client = Client()
    ) -> User:
        self._deny(actor, Action.ACCOUNT_UPDATE, Resource("account", actor.id, actor.id), client)
        with self._d.uow() as uow:
            user = uow.users.get(actor.id)
        if user is None:
            raise NotFound("No such account.")
        if not self._d.hasher.verify(user.password_hash, current_password or ""):
            with self._d.uow() as uow:
                self._audit(uow, actor.id, "account.password_change", f"user:{user.id}", Outcome.FAILURE,
                            client, {"reason": "wrong current password"})
                uow.commit()
            raise ValidationFailed("Your current password is not correct.", field="current_password")
        password = check_password_shape(new_password)
        self._check_password_strength(password, [user.email, user.name, user.business_name])
        now = self._d.clock.now()
        new_hash = self._d.hasher.hash(password)
        with self._d.uow() as uow:
            user = attrs.evolve(user, password_hash=new_hash, updated_at=now)
            uow.users.update(user)
            revoked = uow.tokens.revoke_all_for_user(user.id, now)
            self._audit(uow, actor.id, "account.password_change", f"user:{user.id}", Outcome.SUCCESS, client,
                        {"tokens_revoked": str(revoked)})
            uow.commit()
        return user

    def close_account(self, actor: Actor, user_id: str, client: Client = Client()) -> User:
        """Hidden at once: login disabled, every token revoked, a designer's published
        designs withdrawn from the catalog. The data is purged on the retention
        schedule (P30: 12 months after closing; ``caratzon retention apply``)."""
        self._deny(actor, Action.ACCOUNT_CLOSE, Resource("account", user_id, user_id), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            user = uow.users.get(user_id)
            if user is None:
                raise NotFound("No such account.")
            if user.status is UserStatus.CLOSED:
                return user
            user = attrs.evolve(user, status=UserStatus.CLOSED, closed_at=now, updated_at=now)
            uow.users.update(user)
            revoked = uow.tokens.revoke_all_for_user(user_id, now)
            hidden = 0
            for design in uow.designs.list_by_designer(user_id):
                if design.status is DesignStatus.PUBLISHED:
                    uow.designs.update(transition(design, DesignStatus.WITHDRAWN, now, has_preview_image=True))
                    hidden += 1
            self._audit(uow, actor.id, "account.close", f"user:{user_id}", Outcome.SUCCESS, client,
                        {"tokens_revoked": str(revoked), "designs_withdrawn": str(hidden)})
            uow.commit()
        return user

    def list_users(self, actor: Actor, *, limit: int = 1000, offset: int = 0) -> list[User]:
        self._deny(actor, Action.USER_LIST, Resource("account"), Client())
        with self._d.uow() as uow:
            return uow.users.list(limit=limit, offset=offset)

    def user_for_session(self, user_id: str, stamp: str) -> User | None:
        """The user a browser session belongs to, if it is still valid."""
        with self._d.uow() as uow:
            user = uow.users.get(user_id)
        if user is None or not user.can_log_in or session_stamp(user) != stamp:
            return None
        return user


def _lock_message(until: datetime) -> str:
    return (
        "Too many failed sign-in attempts. Try again after "
        f"{until.strftime('%Y-%m-%d %H:%M')} UTC."
    )
