"""Demo data for trying Caratzon out: one account per role, a few more designers
and buyers with profiles, all sharing one published password.

Everything goes through the use cases, as an operator would at the shell (never
raw SQL), so the demo data obeys every rule the real data does and is audited.
Seeding is idempotent: accounts that already exist are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from attrs import frozen

from caratzon_adapters.bootstrap import Services
from caratzon_core.access import Actor
from caratzon_core.accounts import Language, Role, User
from caratzon_core.errors import Conflict
from caratzon_core.services.accounts import SignUp
from caratzon_core.services.deps import Client

DEMO_DOMAIN = "demo.caratzon.test"
# Published on purpose: it is printed by `caratzon demo seed`. Strong enough for
# the zxcvbn check, so it exercises the same rules as a real sign-up.
DEMO_PASSWORD = "Sapphire-Orchard-Lantern-74"

DEMO_CLIENT = Client(user_agent="caratzon-demo-seed")

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

    return len(DEMO_ACCOUNTS) + (demo_designs.COUNT if design_count is None else design_count)


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
    for account in DEMO_ACCOUNTS:
        user, created = _ensure_account(services, actor, account, existing)
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
    return logins
