"""Demo data for trying Caratzon out: one account per role, a few more designers
and buyers with profiles, all sharing one published password; demo designs (see
:mod:`caratzon_adapters.demo_designs`) with licence options, a negotiation in
progress and a concluded licence agreement.

Everything goes through the use cases, as an operator would at the shell (never
raw SQL), so the demo data obeys every rule the real data does and is audited.
Seeding is idempotent: accounts that already exist are left as they are, and so
are licence options (by name, per design) and the demo negotiations (by the
buyer and licence option they were opened from); a run interrupted half way is
completed by the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from attrs import frozen

from caratzon_adapters.bootstrap import Services
from caratzon_core.access import Actor
from caratzon_core.accounts import Language, Role, User
from caratzon_core.designs import Design, DesignStatus
from caratzon_core.errors import Conflict
from caratzon_core.messaging import MessageKind
from caratzon_core.negotiation import Negotiation, Party
from caratzon_core.services.accounts import SignUp
from caratzon_core.services.deps import Client

DEMO_DOMAIN = "demo.caratzon.test"
# Published on purpose: it is printed by `caratzon demo seed`. Strong enough for
# the zxcvbn check, so it exercises the same rules as a real sign-up.
DEMO_PASSWORD = "Sapphire-Orchard-Lantern-74"

DEMO_CLIENT = Client(user_agent="caratzon-demo-seed")
DEMO_BUYER = f"buyer@{DEMO_DOMAIN}"
DEMO_DESIGNER = f"designer@{DEMO_DOMAIN}"  # the demo negotiations are with this designer when possible

Progress = Callable[[str], None]


@frozen
class DemoProfile:
    biography: str
    brand_description: str
    credentials: str


@frozen
class DemoAccount:
    email: str
    name: str
    role: Role
    business_name: str
    business_address: str
    language: Language = Language.EN
    profile: DemoProfile | None = None


@frozen
class DemoLogin:
    email: str
    role: str
    password: str
    created: bool


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        email=f"designer@{DEMO_DOMAIN}",
        name="Amara Okafor",
        role=Role.DESIGNER,
        business_name="Okafor Fine Jewellery Studio",
        business_address="14 Greville Street, London EC1N 8SB, United Kingdom",
        profile=DemoProfile(
            biography=(
                "Amara trained as a goldsmith in Lagos and London and has designed fine jewellery "
                "for twelve years, working mostly in recycled 18k gold and ethically sourced sapphires."
            ),
            brand_description=(
                "Sculptural rings and ear pieces inspired by West African architecture: bold "
                "geometry, hand-finished surfaces, made to be worn every day."
            ),
            credentials="Diploma in Jewellery Design, Central Saint Martins; GIA Graduate Gemologist.",
        ),
    ),
    DemoAccount(
        email=f"buyer@{DEMO_DOMAIN}",
        name="Daniel Whitfield",
        role=Role.BUYER,
        business_name="Whitfield & Rowe Jewelers",
        business_address="512 Madison Avenue, Suite 9, New York, NY 10022, USA",
    ),
    DemoAccount(
        email=f"manufacturer@{DEMO_DOMAIN}",
        name="Chen Wei",
        role=Role.MANUFACTURER,
        business_name="Shenzhen Lumina Jewelry Manufacturing Co., Ltd.",
        business_address="Building 3, Shuibei Jewelry Park, Luohu District, Shenzhen, Guangdong, China",
        language=Language.ZH_HANS,
    ),
    DemoAccount(
        email=f"production_manager@{DEMO_DOMAIN}",
        name="Sofia Marquez",
        role=Role.PRODUCTION_MANAGER,
        business_name="Caratzon Production",
        business_address="Unit 7, Jewellery Quarter Business Centre, Birmingham B18 6NF, United Kingdom",
    ),
    DemoAccount(
        email=f"admin@{DEMO_DOMAIN}",
        name="Priya Raman",
        role=Role.ADMIN,
        business_name="Caratzon Operations",
        business_address="Unit 7, Jewellery Quarter Business Centre, Birmingham B18 6NF, United Kingdom",
    ),
    DemoAccount(
        email=f"designer2@{DEMO_DOMAIN}",
        name="Lucía Fernández",
        role=Role.DESIGNER,
        business_name="Atelier Fernández",
        business_address="Calle de Claudio Coello 61, 28001 Madrid, Spain",
        profile=DemoProfile(
            biography=(
                "Lucía grew up in her family's workshop in Córdoba and now leads a small atelier "
                "known for filigree techniques reinterpreted in platinum."
            ),
            brand_description="Lace-like filigree necklaces and bridal pieces with a modern, minimal line.",
            credentials="Escuela de Arte y Superior de Diseño, Córdoba; 2023 Madrid Jewellery Week finalist.",
        ),
    ),
    DemoAccount(
        email=f"designer3@{DEMO_DOMAIN}",
        name="Kenji Watanabe",
        role=Role.DESIGNER,
        business_name="Watanabe Metalworks",
        business_address="3-8-12 Kuramae, Taito-ku, Tokyo 111-0051, Japan",
        profile=DemoProfile(
            biography=(
                "Kenji combines traditional Japanese metal colouring (shakudō and shibuichi) with "
                "contemporary men's jewellery; he has exhibited in Tokyo, Milan and Basel."
            ),
            brand_description="Signet rings, cufflinks and pendants with hand-patinated alloys.",
            credentials="Tokyo University of the Arts, MFA Metal Carving.",
        ),
    ),
    DemoAccount(
        email=f"buyer2@{DEMO_DOMAIN}",
        name="Isabelle Laurent",
        role=Role.BUYER,
        business_name="Maison Laurent Joaillerie",
        business_address="27 Rue du Faubourg Saint-Honoré, 75008 Paris, France",
    ),
)


def demo_steps(design_count: int | None = None) -> int:
    """How many steps :func:`seed_demo` reports (for a progress bar)."""
    from caratzon_adapters import demo_designs

    designs = demo_designs.COUNT if design_count is None else design_count
    return len(DEMO_ACCOUNTS) + designs + (LICENSING_STEPS if designs else 0)


def _existing(services: Services, actor: Actor) -> dict[str, User]:
    found: dict[str, User] = {}
    offset, page = 0, 500
    while True:
        users = services.accounts.list_users(actor, limit=page, offset=offset)
        found.update((u.email, u) for u in users)
        if len(users) < page:
            return found
        offset += len(users)


def _ensure_account(
    services: Services, actor: Actor, account: DemoAccount, existing: dict[str, User]
) -> tuple[User, bool]:
    user = existing.get(account.email)
    if user is not None:
        return user, False
    try:
        user = services.accounts.create_user(
            actor,
            SignUp(
                email=account.email,
                password=DEMO_PASSWORD,
                name=account.name,
                role=account.role.value,
                business_name=account.business_name,
                business_address=account.business_address,
                language=account.language.value,
            ),
            DEMO_CLIENT,
        )
    except Conflict:
        # Created by a concurrent run since we listed: that one is the account.
        again = _existing(services, actor).get(account.email)
        if again is None:
            raise
        return again, False
    return user, True


def _ensure_profile(services: Services, user: User, profile: DemoProfile) -> None:
    current = services.accounts.get_profile(user.id)
    if current is not None and (current.biography or current.brand_description or current.credentials):
        return  # Never overwrite what someone (or an earlier run) wrote.
    # The access policy lets only the designer edit their profile, operators
    # included: the demo designer writes their own.
    services.accounts.update_profile(
        services.accounts.actor_for(user),
        user.id,
        biography=profile.biography,
        brand_description=profile.brand_description,
        credentials=profile.credentials,
        client=DEMO_CLIENT,
    )


def seed_demo(
    services: Services, *, progress: Progress | None = None, design_count: int | None = None
) -> list[DemoLogin]:
    """Create the demo accounts that do not exist yet; return every demo login.

    ``progress`` is called with a short description after each step;
    ``design_count`` limits the demo designs (36 by default; tests use fewer).
    """
    actor = Actor.cli_operator("demo")
    existing = _existing(services, actor)
    logins: list[DemoLogin] = []
    designers: list[User] = []
    buyer: User | None = None
    for account in DEMO_ACCOUNTS:
        user, created = _ensure_account(services, actor, account, existing)
        if account.email == DEMO_BUYER and user.role is Role.BUYER:
            buyer = user
        if user.role is Role.DESIGNER and user.can_log_in:
            designers.append(user)
        if account.profile is not None and user.role is Role.DESIGNER and user.can_log_in:
            _ensure_profile(services, user, account.profile)
        logins.append(DemoLogin(email=user.email, role=user.role.value, password=DEMO_PASSWORD, created=created))
        if progress is not None:
            progress(f"{'created' if created else 'found'} {user.email}")
    from caratzon_adapters import demo_designs

    count = demo_designs.COUNT if design_count is None else design_count
    demo_designs.seed_designs(services, designers, count=count, progress=progress)
    if count and designers:
        seed_licensing(services, designers, buyer, count=count, progress=progress)
    return logins


# -- licensing: options, a negotiation in progress, an agreement ----------------------

LICENSING_STEPS = 3
OPTION_DESIGNS = 6  # how many demo designs get the standard and editorial options

STANDARD = "Standard manufacturing licence"
EDITORIAL = "Editorial use"
EXCLUSIVE = "Exclusive manufacturing, Japan"

NEGOTIATION_NOTE = (
    "We would like to add this design to our spring collection. Could you do USD 1,200 up front, "
    "with the royalty as listed?"
)
NEGOTIATION_MESSAGES: tuple[tuple[Party, str], ...] = (
    (Party.BUYER, "Thank you for the quick answer. We plan a first run of about 60 pieces in 18k yellow "
                  "gold for our Madison Avenue store; could the band be a little lighter?"),
    (Party.DESIGNER, "Yes: the band can go down to 1.8 mm without weakening the setting, within the ring-size "
                     "allowance of the licence. USD 1,350 includes a call with your bench jeweller."),
)


def _usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def standard_terms(design: Design, today: date) -> dict[str, object]:
    """Non-exclusive manufacturing, worldwide, one year, up to 100 pieces, a flat fee
    and a royalty per piece."""
    return {
        "use": "manufacturing",
        "exclusivity": "non_exclusive",
        "territory": "worldwide",
        "term": {"start": today.isoformat(), "months": 12},
        "unit_cap": 100,
        "fees": {"flat": _usd("1500.00"), "royalty_per_unit": _usd("4.00")},
        "may_modify": ["ring_size", "stone_size"] if design.category.value == "ring" else ["stone_size"],
        "attribution_required": True,
    }


def editorial_terms(today: date) -> dict[str, object]:
    """Show the design in print and online (a catalogue, a press feature), not sell it."""
    return {
        "use": "editorial",
        "exclusivity": "non_exclusive",
        "territory": "worldwide",
        "term": {"start": today.isoformat(), "months": 12},
        "fees": {"flat": _usd("250.00")},
        "attribution_required": True,
    }


def exclusive_terms(today: date) -> dict[str, object]:
    """The only licence in Japan for two years: no one else, the designer included."""
    return {
        "use": "manufacturing",
        "exclusivity": "exclusive",
        "territory": ["JP"],
        "term": {"start": today.isoformat(), "months": 24},
        "unit_cap": 1000,
        "fees": {"flat": _usd("12000.00"), "royalty_per_unit": _usd("6.00")},
        "may_modify": ["metal", "stone_size"],
        "attribution_required": True,
    }


@frozen
class LicensingSeed:
    options_created: int
    negotiation_id: str | None
    agreement_id: str | None


def _demo_designs(services: Services, designers: list[User], count: int) -> list[Design]:
    """The published demo designs that exist, in the order they are listed."""
    from caratzon_adapters import demo_designs

    by_email = {u.email: u for u in designers}
    mine: dict[str, dict[str, Design]] = {}
    for user in designers:
        mine[user.email] = {d.title: d for d in services.designs.my_designs(services.accounts.actor_for(user))}
    found = []
    for d in demo_designs.demo_designs(sorted(by_email), count):
        design = mine.get(d.designer_email, {}).get(d.title)
        if design is not None and design.status is DesignStatus.PUBLISHED:
            found.append(design)
    return found


def _ensure_options(services: Services, designer: Actor, design: Design, wanted: dict[str, dict[str, object]]) -> int:
    have = {o.name for o in services.licensing.options(designer, design.id, include_retired=True)}
    created = 0
    for name, terms in wanted.items():
        if name not in have:
            services.licensing.add_option(designer, design.id, name, terms, DEMO_CLIENT)
            created += 1
    return created


def _option_id(services: Services, designer: Actor, design: Design, name: str) -> str | None:
    options = services.licensing.options(designer, design.id, include_retired=True)
    return next((o.id for o in options if o.name == name and o.active), None)


def _from_option(services: Services, buyer: Actor, option_id: str) -> Negotiation | None:
    """The buyer's negotiation opened from this option, if any (the demo's marker)."""
    return next((s.negotiation for s in services.licensing.my_negotiations(buyer)
                 if s.negotiation.option_id == option_id), None)


def _negotiation_in_progress(services: Services, buyer: Actor, designer: Actor, design: Design) -> str | None:
    """Buyer offers less than the list price, the designer counters, they talk: the
    buyer's turn to answer."""
    option_id = _option_id(services, designer, design, STANDARD)
    if option_id is None:
        return None
    neg = _from_option(services, buyer, option_id)
    if neg is None:
        neg = services.licensing.open(buyer, option_id, {
            "fees": {"flat": _usd("1200.00"), "royalty_per_unit": _usd("4.00")},
        }, note=NEGOTIATION_NOTE, client=DEMO_CLIENT)
    if neg.is_open and len(neg.offers) == 1 and neg.whose_turn() is Party.DESIGNER:
        neg = services.licensing.offer(designer, neg.id, {
            "fees": {"flat": _usd("1350.00"), "royalty_per_unit": _usd("4.00")},
        }, DEMO_CLIENT)
    view = services.licensing.negotiation(buyer, neg.id)
    if view.thread_id is not None:
        thread = services.messaging.read(buyer, view.thread_id, mark_read=False)
        said = {m.message.body for m in thread.messages if m.message.kind is MessageKind.TEXT}
        for party, body in NEGOTIATION_MESSAGES:
            if body not in said:
                services.messaging.post(buyer if party is Party.BUYER else designer, view.thread_id, body,
                                        client=DEMO_CLIENT)
    return neg.id


def _concluded_agreement(services: Services, buyer: Actor, designer: Actor, design: Design) -> str | None:
    """The buyer takes the standard licence at its list price; the designer accepts."""
    option_id = _option_id(services, designer, design, STANDARD)
    if option_id is None:
        return None
    neg = _from_option(services, buyer, option_id)
    if neg is None:
        neg = services.licensing.open(buyer, option_id, note="At the listed terms, please.", client=DEMO_CLIENT)
    if neg.is_open and neg.whose_turn() is Party.DESIGNER:
        neg, _agreement = services.licensing.accept(designer, neg.id, client=DEMO_CLIENT)
    return services.licensing.negotiation(buyer, neg.id).agreement_id


def seed_licensing(
    services: Services,
    designers: list[User],
    buyer: User | None,
    *,
    count: int,
    progress: Progress | None = None,
) -> LicensingSeed:
    """Licence options on the first demo designs (standard and editorial; one
    exclusive option for Japan), then between the demo buyer and a demo designer
    (the first demo designer when they have designs): one negotiation in progress
    with a few messages, and one concluded agreement."""

    def step(text: str) -> None:
        if progress is not None:
            progress(text)

    designs = _demo_designs(services, designers, count)[:OPTION_DESIGNS]
    actors = {u.id: services.accounts.actor_for(u) for u in designers}
    if not designs:
        for text in ("no demo designs for licence options", "no negotiation", "no agreement"):
            step(text)
        return LicensingSeed(0, None, None)
    main = next((u.id for u in designers if u.email == DEMO_DESIGNER), None)
    # The negotiations are on the main designer's designs first; the exclusive
    # option on a design with neither (an agreement for the world would shut it out).
    ranked = sorted(designs, key=lambda d: d.designer_id != main)
    negotiated = ranked[0]
    agreed = ranked[1] if len(ranked) > 1 else None
    taken = {negotiated.id, agreed.id if agreed is not None else ""}
    exclusive = next((d for d in designs if d.id not in taken), None)
    today = services.deps.clock.now().date()
    created = 0
    for design in designs:
        wanted = {STANDARD: standard_terms(design, today), EDITORIAL: editorial_terms(today)}
        if exclusive is not None and design.id == exclusive.id:
            wanted[EXCLUSIVE] = exclusive_terms(today)
        created += _ensure_options(services, actors[design.designer_id], design, wanted)
    step(f"{created} licence option{'s' if created != 1 else ''} added" if created else "found licence options")

    buyer_actor = services.accounts.actor_for(buyer) if buyer is not None and buyer.can_log_in else None
    negotiation_id = agreement_id = None
    if buyer_actor is not None:
        negotiation_id = _negotiation_in_progress(services, buyer_actor, actors[negotiated.designer_id], negotiated)
    step(f"negotiation on {negotiated.title}" if negotiation_id else "no negotiation (no demo buyer)")
    if buyer_actor is not None and agreed is not None:
        agreement_id = _concluded_agreement(services, buyer_actor, actors[agreed.designer_id], agreed)
    step(f"agreement on {agreed.title}" if agreed is not None and agreement_id else "no agreement")
    return LicensingSeed(created, negotiation_id, agreement_id)
