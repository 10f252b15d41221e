"""Demo data for trying Caratzon out: one account per role, a few more designers,
buyers and manufacturers with profiles, all sharing one published password; demo
designs (see :mod:`caratzon_adapters.demo_designs`) with licence options, a
negotiation in progress and a concluded licence agreement; manufacturer profiles
(most vetted under an NDA, one pending, one suspended), the price table, and two
orders under the agreement: one in production, one awaiting routing.

Everything goes through the use cases, as an operator would at the shell (never
raw SQL), so the demo data obeys every rule the real data does and is audited.
Seeding is idempotent: accounts that already exist are left as they are, and so
are licence options (by name, per design), the demo negotiations (by the buyer
and licence option they were opened from), manufacturer profiles and their
vetting (never changed once someone changed them), the price table (once one is
set) and the demo orders (by their notes); a run interrupted half way is
completed by the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import attrs
from attrs import frozen

from caratzon_adapters.bootstrap import Services
from caratzon_core.access import Actor
from caratzon_core.accounts import Language, Role, User
from caratzon_core.designs import Design, DesignStatus
from caratzon_core.errors import Conflict, NotFound, ValidationFailed
from caratzon_core.licensing import Modification
from caratzon_core.manufacturers import Vetting
from caratzon_core.messaging import MessageKind
from caratzon_core.negotiation import Negotiation, Party
from caratzon_core.orders import Order, OrderStatus
from caratzon_core.quote import DEFAULT_PRICES
from caratzon_core.services.accounts import SignUp
from caratzon_core.services.deps import Client
from caratzon_core.services.manufacturing import ProfileInput

DEMO_DOMAIN = "demo.caratzon.test"
# Published on purpose: it is printed by `caratzon demo seed`. Strong enough for
# the zxcvbn check, so it exercises the same rules as a real sign-up.
DEMO_PASSWORD = "Sapphire-Orchard-Lantern-74"

DEMO_CLIENT = Client(user_agent="caratzon-demo-seed")
DEMO_BUYER = f"buyer@{DEMO_DOMAIN}"
DEMO_DESIGNER = f"designer@{DEMO_DOMAIN}"  # the demo negotiations are with this designer when possible
DEMO_PRODUCTION_MANAGER = f"production_manager@{DEMO_DOMAIN}"  # vets the demo manufacturers
DEMO_MANUFACTURER = f"manufacturer@{DEMO_DOMAIN}"  # the demo order in production is theirs

Progress = Callable[[str], None]


@frozen
class DemoProfile:
    biography: str
    brand_description: str
    credentials: str


@frozen
class DemoWorkshop:
    """A demo manufacturer's profile, and what the demo production manager made of
    it: vetted under an NDA signed ``nda_signed_days_ago`` and running a year from
    the seeding, still pending, or vetted and then suspended for ``suspension``."""

    processes: tuple[str, ...]
    metals: tuple[str, ...]
    min_quantity: int
    max_quantity: int
    weekly_capacity: int
    lead_time_days: int
    ships_to: tuple[str, ...]
    labour_per_piece: str
    labour_per_stone: str
    currency: str
    vetting: Vetting = Vetting.VETTED
    nda_signed_days_ago: int = 30
    suspension: str | None = None


@frozen
class DemoAccount:
    email: str
    name: str
    role: Role
    business_name: str
    business_address: str
    language: Language = Language.EN
    profile: DemoProfile | None = None
    workshop: DemoWorkshop | None = None


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
        # Large, quick and inexpensive: the routing's first choice for most demo orders.
        workshop=DemoWorkshop(
            processes=("lost_wax_casting", "resin_printing", "stone_setting_prong", "stone_setting_pave",
                       "stone_setting_bezel", "stone_setting_channel", "engraving", "plating"),
            metals=("18k_yellow", "18k_white", "18k_rose", "14k_yellow", "14k_white", "14k_rose", "platinum_950",
                    "sterling_silver"),
            min_quantity=1, max_quantity=2000, weekly_capacity=400, lead_time_days=14,
            ships_to=("US", "CA", "GB", "FR", "DE", "IT", "ES", "HK", "CN", "JP", "SG", "AU", "AE"),
            labour_per_piece="38.00", labour_per_stone="1.20", currency="USD", nda_signed_days_ago=90,
        ),
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
    DemoAccount(
        email=f"manufacturer2@{DEMO_DOMAIN}",
        name="Giulia Rossi",
        role=Role.MANUFACTURER,
        business_name="Rossi Oreficeria S.r.l.",
        business_address="Viale della Scienza 12, 36100 Vicenza, Italy",
        # Gold and platinum only, enamel and engraving, priced in euros.
        workshop=DemoWorkshop(
            processes=("lost_wax_casting", "wax_printing", "stone_setting_prong", "stone_setting_bezel",
                       "engraving", "enamel"),
            metals=("18k_yellow", "18k_white", "18k_rose", "platinum_950"),
            min_quantity=1, max_quantity=300, weekly_capacity=120, lead_time_days=21,
            ships_to=("IT", "FR", "DE", "ES", "CH", "AT", "NL", "GB", "US"),
            labour_per_piece="95.00", labour_per_stone="4.50", currency="EUR", nda_signed_days_ago=45,
        ),
    ),
    DemoAccount(
        email=f"manufacturer3@{DEMO_DOMAIN}",
        name="Rahul Mehta",
        role=Role.MANUFACTURER,
        business_name="Mehta Jewels Pvt. Ltd.",
        business_address="Unit 214, SEEPZ SEZ, Andheri East, Mumbai 400096, India",
        # Volume gold and silver work with every setting but no engraving; ten pieces or more.
        workshop=DemoWorkshop(
            processes=("lost_wax_casting", "stone_setting_prong", "stone_setting_pave", "stone_setting_channel",
                       "plating"),
            metals=("18k_yellow", "18k_white", "18k_rose", "14k_yellow", "14k_white", "14k_rose", "sterling_silver"),
            min_quantity=10, max_quantity=1000, weekly_capacity=200, lead_time_days=18,
            ships_to=("IN", "AE", "SG", "GB", "US"),
            labour_per_piece="42.00", labour_per_stone="0.80", currency="USD", nda_signed_days_ago=20,
        ),
    ),
    DemoAccount(
        email=f"manufacturer4@{DEMO_DOMAIN}",
        name="Ploy Srisuk",
        role=Role.MANUFACTURER,
        business_name="Siam Setting Co., Ltd.",
        business_address="919/1 Silom Road, Bang Rak, Bangkok 10500, Thailand",
        # The quickest workshop, but not vetted yet (no NDA): never offered a job.
        workshop=DemoWorkshop(
            processes=("lost_wax_casting", "stone_setting_prong", "stone_setting_pave", "stone_setting_bezel",
                       "stone_setting_channel", "engraving"),
            metals=("18k_yellow", "18k_white", "18k_rose", "14k_yellow", "sterling_silver"),
            min_quantity=1, max_quantity=500, weekly_capacity=150, lead_time_days=6,
            ships_to=("TH", "US", "GB", "JP", "AU", "SG"),
            labour_per_piece="35.00", labour_per_stone="0.90", currency="USD", vetting=Vetting.PENDING,
        ),
    ),
    DemoAccount(
        email=f"manufacturer5@{DEMO_DOMAIN}",
        name="Tobias Becker",
        role=Role.MANUFACTURER,
        business_name="Becker Goldschmiede GmbH",
        business_address="Westliche Karl-Friedrich-Straße 56, 75172 Pforzheim, Germany",
        # Was vetted; suspended while an audit of its NDA handling is open.
        workshop=DemoWorkshop(
            processes=("lost_wax_casting", "stone_setting_prong", "stone_setting_bezel", "engraving", "plating"),
            metals=("18k_yellow", "18k_white", "platinum_950", "sterling_silver"),
            min_quantity=1, max_quantity=200, weekly_capacity=80, lead_time_days=7,
            ships_to=("DE", "AT", "CH", "FR", "NL", "US"),
            labour_per_piece="110.00", labour_per_stone="6.00", currency="EUR", vetting=Vetting.SUSPENDED,
            nda_signed_days_ago=200,
            suspension="Production files were shared outside the workshop; suspended pending the NDA audit.",
        ),
    ),
)


def demo_steps(design_count: int | None = None) -> int:
    """How many steps :func:`seed_demo` reports (for a progress bar)."""
    from caratzon_adapters import demo_designs

    designs = demo_designs.COUNT if design_count is None else design_count
    return len(DEMO_ACCOUNTS) + designs + (LICENSING_STEPS if designs else 0) + PRODUCTION_STEPS


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
    users: dict[str, User] = {}
    for account in DEMO_ACCOUNTS:
        user, created = _ensure_account(services, actor, account, existing)
        users[account.email] = user
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
    licensing = None
    if count and designers:
        licensing = seed_licensing(services, designers, buyer, count=count, progress=progress)
    seed_production(services, users, designers, buyer, licensing.agreement_id if licensing else None,
                    progress=progress)
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


# -- production: manufacturers, prices, orders (issue #5) ------------------------------

PRODUCTION_STEPS = 3

# The demo orders are told apart by their notes.
PRODUCTION_NOTE = "First run for the Madison Avenue store: high polish, stones matched by colour."
RUSH_NOTE = "Rush: six pieces for a trunk show, engraved inside. Can anyone make the date?"
RUSH_ENGRAVING = "W&R 2026"


@frozen
class ProductionSeed:
    profiles_created: int
    vetted: int
    suspended: int
    prices_set: bool
    first_order_id: str | None  # the order taken on to production
    rush_order_id: str | None  # the order no vetted workshop can make in time


def _step(progress: Progress | None, text: str) -> None:
    if progress is not None:
        progress(text)


def _usable(user: User | None, role: Role) -> bool:
    return user is not None and user.role is role and user.can_log_in


def _ensure_workshops(services: Services, users: dict[str, User], vetter: Actor) -> tuple[int, int, int]:
    """Profiles for the demo manufacturers, vetted (or left pending, or suspended) by
    the demo production manager. A profile or vetting someone changed is left alone."""
    today = services.deps.clock.now().date()
    created = vetted = suspended = 0
    for account in DEMO_ACCOUNTS:
        shop = account.workshop
        user = users.get(account.email)
        if shop is None or user is None or not _usable(user, Role.MANUFACTURER):
            continue
        maker = services.accounts.actor_for(user)
        profile = services.manufacturers.profile(maker, user.id)
        if profile is None:
            profile = services.manufacturers.save_profile(maker, user.id, ProfileInput(
                processes=shop.processes, metals=shop.metals, min_quantity=shop.min_quantity,
                max_quantity=shop.max_quantity, weekly_capacity=shop.weekly_capacity,
                lead_time_days=shop.lead_time_days, ships_to=shop.ships_to,
                labour_per_piece=shop.labour_per_piece, labour_per_stone=shop.labour_per_stone,
                currency=shop.currency,
            ), DEMO_CLIENT)
            created += 1
        if shop.vetting is not Vetting.PENDING and profile.vetting is Vetting.PENDING and profile.vetted_at is None:
            profile = services.manufacturers.vet(
                vetter, user.id, nda_until=today + timedelta(days=365),
                nda_signed_on=today - timedelta(days=shop.nda_signed_days_ago), client=DEMO_CLIENT,
            )
            vetted += 1
        # Only the demo's own vetting is taken on to a suspension (an interrupted run).
        if (shop.vetting is Vetting.SUSPENDED and profile.vetting is Vetting.VETTED
                and profile.vetted_by == vetter.id and shop.suspension):
            services.manufacturers.suspend(vetter, user.id, reason=shop.suspension, client=DEMO_CLIENT)
            suspended += 1
    return created, vetted, suspended


def _ensure_prices(services: Services, setter: Actor) -> bool:
    """The default price table, in force from today, unless a table was set."""
    if services.orders.current_prices(setter) is not DEFAULT_PRICES:
        return False
    today = services.deps.clock.now().date()
    services.orders.set_prices(setter, attrs.evolve(DEFAULT_PRICES, effective=today), DEMO_CLIENT)
    return True


def demo_briefs(design: Design, may_modify: frozenset[Modification], today: date) -> tuple[dict[str, object],
                                                                                         dict[str, object]]:
    """The two demo briefs on ``design``: twelve pieces in two months (routed to the
    demo manufacturer, who starts production), and six engraved pieces wanted in
    nine days, which no vetted workshop can make in time (it waits for a production
    manager, who may override the routing with a reason)."""
    stones: list[dict[str, object]] = []
    if Modification.STONE_SIZE in may_modify:
        for gem in design.gemstones[:1]:
            per_stone = (gem.carat / gem.count).quantize(Decimal("0.01"))
            stones.append({"type": gem.type, "carat": str(per_stone), "count": gem.count, "setting": "prong"})
    base: dict[str, object] = {"alloy": design.metals[0], "ship_to": "US", "stones": stones}
    if design.category.value == "ring" and Modification.RING_SIZE in may_modify:
        base["size"] = {"system": "us", "value": "6.5"}
    first = {**base, "quantity": 12, "wanted_by": (today + timedelta(days=60)).isoformat(), "notes": PRODUCTION_NOTE}
    rush = {**base, "quantity": 6, "wanted_by": (today + timedelta(days=9)).isoformat(), "engraving": RUSH_ENGRAVING,
            "notes": RUSH_NOTE}
    return first, rush


def _advance(services: Services, order: Order, router: Actor, makers: dict[str, Actor]) -> Order:
    """Take the demo order on to production: routed (if it is not yet), accepted and
    started by its manufacturer when that is a demo manufacturer."""
    if order.status is OrderStatus.SUBMITTED:
        try:
            order = services.orders.assign(router, order.id, client=DEMO_CLIENT)
        except (Conflict, NotFound, ValidationFailed):
            return order  # nobody qualifies: it waits on the routing board
    maker = makers.get(order.manufacturer_id or "")
    if maker is None:
        return order
    if order.status is OrderStatus.ROUTED:
        order = services.orders.transition(maker, order.id, "accepted", client=DEMO_CLIENT)
    if order.status is OrderStatus.ACCEPTED:
        order = services.orders.transition(maker, order.id, "in_production", client=DEMO_CLIENT)
    return order


def _ensure_orders(services: Services, users: dict[str, User], designers: list[User], buyer: User,
                   agreement_id: str, router: Actor) -> tuple[Order | None, Order | None]:
    buyer_actor = services.accounts.actor_for(buyer)
    agreement = next((a.agreement for a in services.licensing.my_agreements(buyer_actor)
                      if a.agreement.id == agreement_id), None)
    if agreement is None:
        return None, None
    design = services.designs.view(buyer_actor, agreement.design_id).design
    owner = next((u for u in designers if u.id == design.designer_id), None)
    if owner is not None:
        from caratzon_adapters import demo_designs

        # The assigned manufacturer downloads it from the order.
        demo_designs.ensure_production_cad(services, owner, design, designers)
    today = services.deps.clock.now().date()
    first_brief, rush_brief = demo_briefs(design, agreement.terms.may_modify, today)
    mine = {s.order.brief.notes: s.order for s in services.orders.my_orders(buyer_actor)
            if s.order.agreement_id == agreement.id}
    first = mine.get(PRODUCTION_NOTE)
    if first is None:
        first = services.orders.create(buyer_actor, agreement.id, first_brief, client=DEMO_CLIENT)
    makers: dict[str, Actor] = {}
    for account in DEMO_ACCOUNTS:
        user = users.get(account.email)
        if account.workshop is not None and user is not None and _usable(user, Role.MANUFACTURER):
            makers[user.id] = services.accounts.actor_for(user)
    first = _advance(services, first, router, makers)
    rush = mine.get(RUSH_NOTE)
    if rush is None:
        rush = services.orders.create(buyer_actor, agreement.id, rush_brief, client=DEMO_CLIENT)
    return first, rush


def seed_production(
    services: Services,
    users: dict[str, User],
    designers: list[User],
    buyer: User | None,
    agreement_id: str | None,
    *,
    progress: Progress | None = None,
) -> ProductionSeed:
    """Manufacturer profiles (vetted, pending, suspended) by the demo production
    manager, the default price table from today, and under the demo licence
    agreement one order in production and one awaiting routing."""
    manager = users.get(DEMO_PRODUCTION_MANAGER)
    staff = (services.accounts.actor_for(manager) if manager is not None and _usable(manager, Role.PRODUCTION_MANAGER)
             else Actor.cli_operator("demo"))
    created, vetted, suspended = _ensure_workshops(services, users, staff)
    if created or vetted or suspended:
        _step(progress, f"{created} manufacturer profiles added, {vetted} vetted, {suspended} suspended")
    else:
        _step(progress, "found manufacturer profiles")
    prices_set = _ensure_prices(services, staff)
    _step(progress, "price table set" if prices_set else "found a price table")
    first = rush = None
    if buyer is not None and _usable(buyer, Role.BUYER) and agreement_id is not None:
        first, rush = _ensure_orders(services, users, designers, buyer, agreement_id, staff)
    if first is None or rush is None:
        _step(progress, "no demo orders (no licence agreement)")
    else:
        _step(progress, f"orders {first.status.value.replace('_', ' ')} and {rush.status.value}")
    return ProductionSeed(created, vetted, suspended, prices_set,
                          first.id if first is not None else None, rush.id if rush is not None else None)
