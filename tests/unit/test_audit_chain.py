"""P17, P29, P34: the audit trail is append-only and tamper-evident, and pruning
the oldest entries keeps it verifiable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from caratzon_core.access import Actor
from caratzon_core.accounts import Role
from caratzon_core.audit import (
    AuditRecord,
    ChainHead,
    head_message,
    next_entry,
    truncate_address,
    verify_chain,
)
from caratzon_core.errors import Forbidden, ValidationFailed
from caratzon_core.services.audit import AUDIT_RETENTION, AuditService
from caratzon_core.signing import HmacSigner
from caratzon_core.testing import FakeClock, fake_deps

SIGNER = HmacSigner(b"s" * 32, purpose="audit")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def build_chain(n: int) -> tuple[list, ChainHead | None]:
    entries, head = [], None
    for i in range(n):
        e = next_entry(AuditRecord(f"user:{i}", "account.login", f"user:{i}", "success", "10.1.2.3"),
                       head=head, at=T0 + timedelta(minutes=i))
        head = ChainHead(e.seq, e.hash, SIGNER.sign(head_message(e.seq, e.hash)))
        entries.append(e)
    return entries, head


def verify(entries, head, checkpoint=None):
    return verify_chain(entries, head=head, checkpoint=checkpoint, verify_signature=SIGNER.verify)


def test_an_untouched_chain_verifies() -> None:
    entries, head = build_chain(20)
    report = verify(entries, head)
    assert report.ok and report.entries_checked == 20 and report.last_seq == 20


def test_empty_chain_verifies() -> None:
    assert verify([], None).ok


@given(st.integers(min_value=1, max_value=15), st.sampled_from(["actor", "action", "subject", "outcome", "at"]))
def test_editing_any_field_of_any_entry_is_caught_at_that_entry(n: int, field: str) -> None:
    entries, head = build_chain(15)
    victim = entries[n - 1]
    changed = attrs.evolve(victim, **{field: victim.at + timedelta(seconds=1) if field == "at" else "forged"})
    entries[n - 1] = changed
    report = verify(entries, head)
    assert not report.ok and report.first_bad_seq == n


@given(st.integers(min_value=1, max_value=14))
def test_deleting_a_middle_entry_is_caught(n: int) -> None:
    entries, head = build_chain(15)
    del entries[n - 1]
    report = verify(entries, head)
    assert not report.ok and report.first_bad_seq == n


def test_cutting_off_the_tail_is_caught_by_the_signed_head() -> None:
    entries, head = build_chain(10)
    report = verify(entries[:-2], head)
    assert not report.ok and report.first_bad_seq == 9


def test_a_forged_head_is_caught() -> None:
    entries, head = build_chain(10)
    assert head is not None
    forged = ChainHead(8, entries[7].hash, "not-a-signature")
    assert not verify(entries[:8], forged).ok


def test_recomputing_hashes_after_an_edit_still_fails_without_the_key() -> None:
    entries, _ = build_chain(5)
    # An attacker rewrites entry 3 and re-chains everything after it, but cannot sign the head.
    rebuilt, head = [], None
    for e in entries:
        rec = AuditRecord(e.actor if e.seq != 3 else "forged", e.action, e.subject, e.outcome, None)
        new = next_entry(rec, head=head, at=e.at)
        head = ChainHead(new.seq, new.hash, "x")
        rebuilt.append(new)
    assert not verify(rebuilt, head).ok


def test_addresses_are_truncated_before_storage() -> None:
    assert truncate_address("203.0.113.77") == "203.0.113.0/24"
    assert truncate_address("2001:db8:abcd:12::1") == "2001:db8:abcd::/48"
    assert truncate_address("not an ip") is None


def test_secret_bearing_detail_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="secrets"):
        AuditRecord("a", "b", "c", "success", detail={"password": "hunter2"})


def test_pruning_leaves_a_verifiable_chain_and_needs_admin() -> None:
    clock = FakeClock(T0)
    deps, store = fake_deps(clock=clock)
    audit = AuditService(deps)
    for i in range(10):
        audit.record_alone(AuditRecord("system", "test.event", f"thing:{i}", "success"))
        clock.advance(timedelta(days=200))
    clock.advance(AUDIT_RETENTION)
    admin = Actor.cli_operator()
    with pytest.raises(Forbidden):
        audit.prune(Actor("u", Role.DESIGNER), older_than=clock.now())
    with pytest.raises(ValidationFailed, match="3 years"):
        audit.prune(admin, older_than=clock.now() - timedelta(days=3 * 365))
    cutoff = T0 + timedelta(days=200 * 5)
    assert cutoff <= clock.now() - AUDIT_RETENTION
    result = audit.prune(admin, older_than=cutoff)
    assert result.pruned == 6
    report = audit.verify(admin)
    assert report.ok, report
    assert min(e.seq for e in store.state.audit) == 7
    # Tampering with the checkpoint is caught.
    assert store.state.checkpoint is not None
    store.state.checkpoint = attrs.evolve(store.state.checkpoint, hash="0" * 64)
    assert not audit.verify(admin).ok


def test_pruning_never_removes_the_newest_entry() -> None:
    clock = FakeClock(T0)
    deps, _store = fake_deps(clock=clock)
    audit = AuditService(deps)
    audit.record_alone(AuditRecord("system", "test.event", "thing", "success"))
    clock.advance(timedelta(days=2000))
    audit.prune(Actor.cli_operator(), older_than=clock.now() - AUDIT_RETENTION)
    assert audit.verify(Actor.cli_operator()).ok


def test_signer_refuses_garbage_signatures_without_crashing() -> None:
    good = SIGNER.sign(b"m")
    assert SIGNER.verify(b"m", good)
    for bad in ("", "é" * 43, good[:-1], good + "x", "\udcff"):
        assert not SIGNER.verify(b"m", bad)
