"""Design use cases: the designer studio (create, edit, upload, publish), the
design page, signed asset links, saved lists and the catalog.

Uploads never leave an orphan: the blob keys are recorded as pending (and
committed) before the bytes go to the store, and the asset row replaces the
pending record in one transaction. A failure deletes the blobs at once; a crash
leaves a pending record that :meth:`DesignService.sweep_pending` cleans up.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import attrs
from attrs import frozen

from caratzon_core.access import Action, Actor, Resource, decide
from caratzon_core.accounts import DesignerProfile, Role, UserStatus, clean_text
from caratzon_core.audit import AuditRecord, Outcome
from caratzon_core.blobs import BlobTooLarge, SignedLink
from caratzon_core.catalog import CatalogItem, CatalogPage, CatalogQuery, card_blob
from caratzon_core.consent import EngagementEvent, EventKind, may_track
from caratzon_core.designs import (
    CAD_EXTENSIONS,
    IMAGE_EXTENSIONS,
    MAX_DESCRIPTION,
    MAX_GEMSTONES,
    MAX_TITLE,
    Asset,
    AssetKind,
    Design,
    DesignStatus,
    Dimensions,
    Gemstone,
    Inspection,
    Visibility,
    parse_category,
    parse_decimal,
    parse_gemstone,
    parse_metals,
    parse_tags,
    transition,
)
from caratzon_core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from caratzon_core.geometry import CadAnalysis, CadStatus, assess
from caratzon_core.money import Money
from caratzon_core.ports import AssetInspector, BlobStore, UnitOfWork
from caratzon_core.services.audit import AuditTrail
from caratzon_core.services.deps import Client, Deps

MAX_FILENAME = 255
_TRANSITION_ACTIONS = {
    DesignStatus.PUBLISHED: "design.publish",
    DesignStatus.WITHDRAWN: "design.withdraw",
    DesignStatus.REMOVED: "design.remove",
    DesignStatus.DRAFT: "design.draft",
}


@frozen
class DesignInput:
    """What a designer fills in; every field but title and category may be empty."""

    title: str
    category: str
    description: str = ""
    metals: Sequence[str] = ()
    gemstones: Sequence[Mapping[str, object]] = ()
    dimensions: Mapping[str, object] = attrs.field(factory=dict)
    tags: Sequence[str] = ()
    price_amount: str | None = None
    price_currency: str | None = None


@frozen
class DesignChanges:
    """Only the fields given (not ``None``) change."""

    title: str | None = None
    category: str | None = None
    description: str | None = None
    metals: Sequence[str] | None = None
    gemstones: Sequence[Mapping[str, object]] | None = None
    dimensions: Mapping[str, object] | None = None
    tags: Sequence[str] | None = None
    price_amount: str | None = None
    price_currency: str | None = None
    clear_price: bool = False


@frozen
class Upload:
    filename: str
    path: Path  # the upload, already on local disk (the web layer spools it)
    kind: str
    visibility: str = Visibility.PREVIEW.value


@frozen
class AssetView:
    asset: Asset
    link: SignedLink | None  # None where the caller may not fetch it directly
    thumbnail: SignedLink | None = None


@frozen
class DesignView:
    design: Design
    designer_name: str
    profile: DesignerProfile | None
    assets: tuple[AssetView, ...]
    saved: bool
    can_edit: bool


@frozen
class DesignerPage:
    designer_id: str
    name: str
    business_name: str | None
    profile: DesignerProfile | None
    designs: CatalogPage


def _actor_resource(design: Design, kind: str = "design") -> Resource:
    return Resource(kind, design.id, design.designer_id, public=design.status is DesignStatus.PUBLISHED)


def check_filename(raw: object) -> tuple[str, str]:
    """The uploader's name for a file, kept as metadata only. Path parts and control
    characters are refused, not silently cleaned, so nobody is surprised."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed("The file needs a name.", field="file")
    name = raw.strip()
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith(".."):
        raise ValidationFailed("File names may not contain folders or path parts.", field="file")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValidationFailed("File names may not contain control characters.", field="file")
    if len(name) > MAX_FILENAME:
        raise ValidationFailed(f"File names are limited to {MAX_FILENAME} characters.", field="file")
    ext = os.path.splitext(name)[1].lower()
    if not ext:
        raise ValidationFailed("The file name needs an extension such as .stl or .jpg.", field="file")
    return name, ext


def _thumb_type(asset: Asset) -> str:
    return card_blob(asset.thumbnail_key, asset.blob_key, asset.content_type)[1]


def _human_bytes(n: int) -> str:
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"


class DesignService:
    def __init__(self, deps: Deps) -> None:
        if deps.blobs is None or deps.inspector is None:
            raise ValueError("DesignService needs a blob store and an asset inspector")
        self._d = deps
        self._blobs: BlobStore = deps.blobs
        self._inspector: AssetInspector = deps.inspector
        self._trail = AuditTrail(deps.clock, deps.signer)

    # -- helpers ---------------------------------------------------------------------

    def _audit(self, uow: UnitOfWork, actor: Actor, action: str, subject: str, outcome: str,
               client: Client, detail: Mapping[str, str] | None = None) -> None:
        self._trail.record(uow, AuditRecord(actor.id, action, subject, outcome, client.address, dict(detail or {})))

    def _deny(self, actor: Actor | None, action: Action, resource: Resource, client: Client) -> None:
        decision = decide(actor, action, resource)
        if decision.allowed:
            return
        with self._d.uow() as uow:
            self._trail.record(uow, AuditRecord(
                actor.id if actor else "anonymous", str(action), f"{resource.kind}:{resource.id or '-'}",
                Outcome.DENIED, client.address, {"reason": decision.reason},
            ))
            uow.commit()
        raise Forbidden(decision.reason)

    def _load(self, design_id: str) -> Design:
        with self._d.uow() as uow:
            design = uow.designs.get(design_id)
        if design is None:
            raise NotFound("No such design.")
        return design

    def _editable(self, actor: Actor, design_id: str, client: Client) -> Design:
        design = self._load(design_id)
        self._deny(actor, Action.DESIGN_EDIT, _actor_resource(design), client)
        if design.status is DesignStatus.REMOVED:
            raise Conflict("This design was removed and can no longer be changed.", field="status")
        return design

    def _visible(self, actor: Actor, design_id: str, client: Client) -> Design:
        design = self._load(design_id)
        if design.status is DesignStatus.REMOVED and actor.role is not Role.ADMIN:
            raise NotFound("No such design.")
        self._deny(actor, Action.DESIGN_VIEW, _actor_resource(design), client)
        return design

    def _fields(self, inp: DesignInput | DesignChanges, base: Design | None) -> dict[str, object]:
        problems: list[ValidationFailed] = []
        out: dict[str, object] = {}

        def attempt(name: str, fn: object) -> None:
            try:
                out[name] = fn()  # type: ignore[operator]
            except ValidationFailed as err:
                problems.append(err)

        if inp.title is not None:
            attempt("title", lambda: clean_text(inp.title, field="title", max_length=MAX_TITLE, required=True))
        if inp.category is not None:
            attempt("category", lambda: parse_category(inp.category))
        if inp.description is not None:
            attempt("description", lambda: clean_text(inp.description, field="description",
                                                      max_length=MAX_DESCRIPTION, required=False) or "")
        if inp.metals is not None:
            attempt("metals", lambda: parse_metals(inp.metals))
        if inp.gemstones is not None:
            def gems() -> tuple[Gemstone, ...]:
                gemstones = list(inp.gemstones or ())
                if len(gemstones) > MAX_GEMSTONES:
                    raise ValidationFailed(f"At most {MAX_GEMSTONES} gemstone lines.", field="gemstones")
                return tuple(parse_gemstone(dict(g)) for g in gemstones)
            attempt("gemstones", gems)
        if inp.dimensions is not None:
            def dims() -> Dimensions:
                raw = dict(inp.dimensions or {})
                unknown = set(raw) - {"width_mm", "height_mm", "depth_mm"}
                if unknown:
                    raise ValidationFailed(f"Unknown dimension {sorted(unknown)[0]!r}.", field="dimensions")
                return Dimensions(**{
                    k: parse_decimal(v, field="dimensions", minimum=Decimal("0.01"), maximum=Decimal(1000))
                    for k, v in raw.items() if v not in (None, "")
                })
            attempt("dimensions", dims)
        if inp.tags is not None:
            attempt("tags", lambda: parse_tags(inp.tags))
        if isinstance(inp, DesignChanges) and inp.clear_price:
            out["price_guidance"] = None
        elif inp.price_amount not in (None, ""):
            def price() -> Money:
                money = Money.parse(str(inp.price_amount), str(inp.price_currency or ""), field_name="price_amount")
                if money.amount_minor <= 0:
                    raise ValidationFailed("The price guidance must be above zero.", field="price_amount")
                return money
            attempt("price_guidance", price)
        if problems:
            raise ValidationFailed.collect(problems)
        return out

    # -- studio ----------------------------------------------------------------------

    def create(self, actor: Actor, inp: DesignInput, client: Client = Client()) -> Design:
        self._deny(actor, Action.DESIGN_CREATE, Resource("design"), client)
        fields = self._fields(inp, None)
        now = self._d.clock.now()
        design = Design(
            id=self._d.ids.new_id(),
            designer_id=actor.id,
            title=str(fields["title"]),
            description=str(fields.get("description", "")),
            category=fields["category"],  # type: ignore[arg-type]
            metals=fields.get("metals", ()),  # type: ignore[arg-type]
            gemstones=fields.get("gemstones", ()),  # type: ignore[arg-type]
            dimensions=fields.get("dimensions", Dimensions()),  # type: ignore[arg-type]
            tags=fields.get("tags", ()),  # type: ignore[arg-type]
            price_guidance=fields.get("price_guidance"),  # type: ignore[arg-type]
            status=DesignStatus.DRAFT,
            created_at=now,
            updated_at=now,
        )
        with self._d.uow() as uow:
            uow.designs.add(design)
            self._audit(uow, actor, "design.create", f"design:{design.id}", Outcome.SUCCESS, client)
            uow.commit()
        return design

    def update(self, actor: Actor, design_id: str, changes: DesignChanges, client: Client = Client()) -> Design:
        design = self._editable(actor, design_id, client)
        fields = self._fields(changes, design)
        changed = sorted(k for k, v in fields.items() if getattr(design, k) != v)
        if not changed:
            return design
        design = attrs.evolve(design, updated_at=self._d.clock.now(), **fields)  # type: ignore[arg-type]
        with self._d.uow() as uow:
            uow.designs.update(design)
            self._audit(uow, actor, "design.update", f"design:{design.id}", Outcome.SUCCESS, client,
                        {"fields": ",".join(changed)})
            uow.commit()
        return design

    def _move(self, actor: Actor, design_id: str, to: DesignStatus, client: Client) -> Design:
        design = self._load(design_id)
        self._deny(actor, Action.DESIGN_EDIT, _actor_resource(design), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            assets = uow.assets.list_for_design(design_id)
            has_preview = any(a.kind is AssetKind.IMAGE and a.visibility is Visibility.PREVIEW for a in assets)
            moved = transition(design, to, now, has_preview_image=has_preview)
            uow.designs.update(moved)
            self._audit(uow, actor, _TRANSITION_ACTIONS[to],
                        f"design:{design_id}", Outcome.SUCCESS, client,
                        {"from": design.status.value, "to": to.value})
            uow.commit()
        return moved

    def publish(self, actor: Actor, design_id: str, client: Client = Client()) -> Design:
        return self._move(actor, design_id, DesignStatus.PUBLISHED, client)

    def withdraw(self, actor: Actor, design_id: str, client: Client = Client()) -> Design:
        return self._move(actor, design_id, DesignStatus.WITHDRAWN, client)

    def remove(self, actor: Actor, design_id: str, client: Client = Client()) -> Design:
        """Hidden at once; the removal time starts the 90-day asset clock (P31)."""
        return self._move(actor, design_id, DesignStatus.REMOVED, client)

    def my_designs(self, actor: Actor) -> list[Design]:
        self._deny(actor, Action.DESIGN_CREATE, Resource("design"), Client())
        with self._d.uow() as uow:
            return [d for d in uow.designs.list_by_designer(actor.id) if d.status is not DesignStatus.REMOVED]

    # -- assets ----------------------------------------------------------------------

    def add_asset(self, actor: Actor, design_id: str, upload: Upload, client: Client = Client()) -> Asset:
        design = self._editable(actor, design_id, client)
        filename, ext = check_filename(upload.filename)
        try:
            kind = AssetKind(str(upload.kind))
        except ValueError:
            raise ValidationFailed(f"Unknown asset kind {upload.kind!r}; expected cad, image or render.",
                                   field="kind") from None
        try:
            visibility = Visibility(str(upload.visibility or "preview"))
        except ValueError:
            raise ValidationFailed(f"Unknown visibility {upload.visibility!r}; expected preview or production.",
                                   field="visibility") from None
        if visibility is Visibility.PRODUCTION and kind is not AssetKind.CAD:
            raise ValidationFailed("Only CAD files can be production files.", field="visibility")
        allowed = CAD_EXTENSIONS if kind is AssetKind.CAD else IMAGE_EXTENSIONS
        if ext not in allowed:
            raise ValidationFailed(
                f"A {kind.value} file must be one of {', '.join(sorted(allowed))}; got {ext}.", field="file"
            )
        s = self._d.settings
        limit = s.max_cad_bytes if kind is AssetKind.CAD else s.max_image_bytes
        size = upload.path.stat().st_size
        if size == 0:
            raise ValidationFailed("The file is empty.", field="file")
        if size > limit:
            raise BlobTooLarge(f"The file is larger than the {_human_bytes(limit)} limit.", limit=limit)

        inspection = self._inspector.inspect(upload.path, extension=ext, kind=kind)
        try:
            return self._store_asset(actor, design, upload, inspection, filename, ext, kind, visibility, limit,
                                     client)
        finally:
            if inspection.clean_path != upload.path:
                with contextlib.suppress(FileNotFoundError):
                    inspection.clean_path.unlink()

    def _store_asset(self, actor: Actor, design: Design, upload: Upload, inspection: Inspection, filename: str,
                     ext: str, kind: AssetKind, visibility: Visibility, limit: int, client: Client) -> Asset:
        analysis: CadAnalysis | None = None
        if kind is AssetKind.CAD:
            analysis = (
                assess(inspection.mesh, casting_allowance=self._d.settings.casting_allowance)
                if inspection.analysed
                else CadAnalysis(CadStatus.NOT_ANALYSED, None, "This format is stored but not analysed.")
            )
        asset_id = self._d.ids.new_id()
        key = f"designs/{design.id}/{asset_id}{ext}".lower()
        thumb_ext = ".png" if inspection.thumbnail_content_type == "image/png" else ".webp"
        thumb_key = f"designs/{design.id}/{asset_id}-thumb{thumb_ext}".lower() if inspection.thumbnail else None
        keys = [k for k in (key, thumb_key) if k]
        now = self._d.clock.now()
        with self._d.uow() as uow:
            for k in keys:
                uow.pending_blobs.add(k, now)
            uow.commit()
        try:
            with inspection.clean_path.open("rb") as stream:
                stored = self._blobs.put(key, stream, content_type=inspection.content_type, max_bytes=limit)
            if thumb_key and inspection.thumbnail:
                self._blobs.put(thumb_key, BytesIO(inspection.thumbnail),
                                content_type=inspection.thumbnail_content_type or "image/webp",
                                max_bytes=limit)
            asset = Asset(
                id=asset_id,
                design_id=design.id,
                kind=kind,
                visibility=visibility,
                blob_key=key,
                filename=filename,
                content_type=inspection.content_type,
                size=stored.size,
                sha256=stored.sha256,
                created_at=now,
                analysis=analysis,
                thumbnail_key=thumb_key,
                width_px=inspection.width_px,
                height_px=inspection.height_px,
            )
            with self._d.uow() as uow:
                uow.assets.add(asset)
                for k in keys:
                    uow.pending_blobs.remove(k)
                self._audit(uow, actor, "asset.upload", f"asset:{asset.id}", Outcome.SUCCESS, client,
                            {"design": design.id, "kind": kind.value, "visibility": visibility.value,
                             "sha256": stored.sha256, "size": str(stored.size)})
                uow.commit()
            return asset
        except BaseException:
            self._discard(keys)
            raise

    def _discard(self, keys: list[str]) -> None:
        """Delete blobs of a failed upload; forget the pending record only once
        the store confirmed the deletion (otherwise the sweep retries)."""
        gone = []
        for k in keys:
            try:
                self._blobs.delete(k)
                gone.append(k)
            except Exception:  # noqa: S112 - the sweep retries what failed here
                continue
        if gone:
            with self._d.uow() as uow:
                for k in gone:
                    uow.pending_blobs.remove(k)
                uow.commit()

    def sweep_pending(self, actor: Actor, client: Client = Client()) -> int:
        """Delete blobs whose upload never committed (a crash between store and row)."""
        self._deny(actor, Action.AUDIT_VERIFY, Resource("blob store"), client)
        cutoff = self._d.clock.now() - self._d.settings.pending_blob_grace
        with self._d.uow() as uow:
            keys = uow.pending_blobs.older_than(cutoff)
        self._discard(keys)
        return len(keys)

    def _link_for(self, actor: Actor, design: Design, asset: Asset, client: Client, *,
                  grantees: frozenset[str] = frozenset(), context: Mapping[str, str] | None = None) -> SignedLink:
        s = self._d.settings
        if asset.visibility is Visibility.PRODUCTION:
            resource = Resource("asset", asset.id, design.designer_id,
                                public=design.status is DesignStatus.PUBLISHED, grantees=grantees)
            self._deny(actor, Action.ASSET_VIEW_PRODUCTION, resource, client)
            link = self._blobs.signed_url(asset.blob_key, expires_in=s.production_link_ttl,
                                          filename=asset.filename, content_type=asset.content_type)
            with self._d.uow() as uow:
                self._audit(uow, actor, "asset.production_link", f"asset:{asset.id}", Outcome.SUCCESS, client,
                            {"design": design.id, "expires_at": link.expires_at.isoformat(), **(context or {})})
                uow.commit()
            return link
        self._deny(actor, Action.ASSET_VIEW_PREVIEW, _actor_resource(design, "asset"), client)
        return self._blobs.signed_url(asset.blob_key, expires_in=s.link_ttl, filename=asset.filename,
                                      content_type=asset.content_type)

    def asset_link(self, actor: Actor, asset_id: str, client: Client = Client(), *,
                   grantees: frozenset[str] = frozenset(),
                   context: Mapping[str, str] | None = None) -> tuple[Asset, SignedLink]:
        """A signed, expiring link (P27). Production CAD: owner, admins, and (from the
        orders issue) the assigned vetted manufacturer under NDA; every issuance audited."""
        with self._d.uow() as uow:
            asset = uow.assets.get(asset_id)
            design = uow.designs.get(asset.design_id) if asset else None
        if asset is None or design is None:
            raise NotFound("No such asset.")
        if design.status is DesignStatus.REMOVED and actor.role is not Role.ADMIN:
            raise NotFound("No such asset.")
        return asset, self._link_for(actor, design, asset, client, grantees=grantees, context=context)

    def thumbnail_links(self, actor: Actor, items: Sequence[CatalogItem]) -> dict[str, SignedLink]:
        """Signed links to the catalog cards' cover thumbnails, keyed by asset id.
        Signed from the page itself: no query per card."""
        out: dict[str, SignedLink] = {}
        ttl = self._d.settings.link_ttl
        for item in items:
            if not item.thumbnail_asset_id or not item.thumbnail_key:
                continue
            if not decide(actor, Action.ASSET_VIEW_PREVIEW, _actor_resource(item.design, "asset")).allowed:
                continue
            out[item.thumbnail_asset_id] = self._blobs.signed_url(
                item.thumbnail_key, expires_in=ttl, content_type=item.thumbnail_content_type
            )
        return out

    # -- reading -------------------------------------------------------------------------

    def view(self, actor: Actor, design_id: str, client: Client = Client()) -> DesignView:
        design = self._visible(actor, design_id, client)
        s = self._d.settings
        with self._d.uow() as uow:
            assets = uow.assets.list_for_design(design_id)
            designer = uow.users.get(design.designer_id)
            profile = uow.profiles.get(design.designer_id)
            saved = uow.saved.is_saved(actor.id, design_id)
        views: list[AssetView] = []
        for asset in assets:
            link = thumb = None
            if asset.visibility is Visibility.PREVIEW:
                link = self._blobs.signed_url(asset.blob_key, expires_in=s.link_ttl, filename=asset.filename,
                                              content_type=asset.content_type)
                if asset.thumbnail_key:
                    thumb = self._blobs.signed_url(asset.thumbnail_key, expires_in=s.link_ttl,
                                                   content_type=_thumb_type(asset))
            elif not decide(actor, Action.ASSET_VIEW_PRODUCTION,
                            Resource("asset", asset.id, design.designer_id)).allowed:
                continue  # production files are not even listed for those who may not have them
            views.append(AssetView(asset, link, thumb))
        return DesignView(
            design=design,
            designer_name=designer.name if designer else "",
            profile=profile,
            assets=tuple(views),
            saved=saved,
            can_edit=decide(actor, Action.DESIGN_EDIT, _actor_resource(design)).allowed,
        )

    def search(self, actor: Actor, query: CatalogQuery) -> CatalogPage:
        self._deny(actor, Action.CATALOG_BROWSE, Resource("catalog"), Client())
        with self._d.uow() as uow:
            return uow.catalog.search(query)

    def designer_page(self, actor: Actor, designer_id: str, query: CatalogQuery | None = None) -> DesignerPage:
        """The designer's public profile and portfolio of published designs (P19)."""
        self._deny(actor, Action.CATALOG_BROWSE, Resource("catalog"), Client())
        with self._d.uow() as uow:
            designer = uow.users.get(designer_id)
            if designer is None or designer.role is not Role.DESIGNER or designer.status is UserStatus.CLOSED:
                raise NotFound("No such designer.")
            profile = uow.profiles.get(designer_id)
            page = uow.catalog.search(attrs.evolve(query or CatalogQuery(), designer_id=designer_id))
        return DesignerPage(designer_id, designer.name, designer.business_name, profile, page)

    # -- saved lists -----------------------------------------------------------------------

    def save(self, actor: Actor, design_id: str, client: Client = Client(), *, visitor_id: str | None = None,
             saved: bool = True) -> bool:
        """Save (or unsave) a published design to the buyer's list. The save also
        counts as an engagement event, but only with analytics consent (P9, P10)."""
        design = self._load(design_id)
        self._deny(actor, Action.DESIGN_SAVE, _actor_resource(design), client)
        now = self._d.clock.now()
        with self._d.uow() as uow:
            if not saved:
                changed = uow.saved.unsave(actor.id, design_id)
            else:
                changed = uow.saved.save(actor.id, design_id, now)
                consent = uow.consents.latest(visitor_id, actor.id)
                if changed and may_track(consent, user_status=actor.status):
                    uow.engagement.add(EngagementEvent(
                        id=self._d.ids.new_id(), design_id=design_id, kind=EventKind.SAVE, at=now,
                        visitor_id=visitor_id or (consent.visitor_id if consent else ""), user_id=actor.id,
                    ))
            uow.commit()
        return changed

    def saved_designs(self, actor: Actor) -> list[Design]:
        with self._d.uow() as uow:
            ids = uow.saved.list_for_user(actor.id)
            designs = [uow.designs.get(i) for i in ids]
        return [d for d in designs if d is not None and d.status is DesignStatus.PUBLISHED]

