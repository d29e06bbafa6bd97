"""The peer inbox's idempotency (issue 14.10): a message is its sender plus its content.

The ``X-Message-ID`` a sender gives a message names it but does not replace it: the same
content is applied once whatever its id (or with none), and an id reused for different
content is refused with an ISO error, never applied and never silently dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.directory import Partner
from resource_sharing.iso18626 import Action, ErrorType
from resource_sharing.messages import Authentication, Header, RequestingAgencyMessage
from resource_sharing.ports import Holding
from resource_sharing.records import AgencyId, Citation, Identifier, ItemRef, PatronRef, Side
from resource_sharing.service import Settings, content_digest
from resource_sharing.testing.consortium import Consortium

A, C = AgencyId("US-A"), AgencyId("US-C")
START = datetime(2026, 3, 2, 9, tzinfo=UTC)
ISBN = "9780262033848"
BOOK = Citation(title="Introduction to Algorithms", item_ids=(Identifier("ISBN", ISBN),))
PATRON = PatronRef("p-1", "Ada Lovelace")


def lent() -> tuple[Consortium, str, str]:
    """A and C; A's request is at C (C's id and the requester's request id)."""
    net = Consortium(START)
    partners = [Partner(A), Partner(C)]
    net.add(Settings(A), partners=partners)
    holding = Holding(ItemRef("C-1", "QA76", "Stacks", desk="Main"))
    net.add(Settings(C), partners=partners, holdings={ISBN: holding})
    net[A].institution.borrowing.place_request(PATRON, BOOK, rota=[C])
    net.settle()
    ((side, lending_id),) = [k for k in net[C].memory._state.rows if k[0] is Side.LENDING]
    record = net[C].institution.get(side, lending_id)
    return net, lending_id, record.requester_request_id  # type: ignore[union-attr]


def note(rid: str, text: str, minute: int = 0) -> RequestingAgencyMessage:
    header = Header(A, C, rid, START + timedelta(minutes=minute))
    return RequestingAgencyMessage(header, Action.NOTIFICATION, text)


def history(net: Consortium, lending_id: str) -> list[str]:
    with net[C].store.transaction() as uow:
        return [e.event for e in uow.history.of(Side.LENDING, lending_id)]


def test_the_same_content_under_another_id_or_none_is_applied_once() -> None:
    net, lid, rid = lent()
    inbox = net[C].institution.inbox
    before = history(net, lid)
    first = inbox.receive(note(rid, "please hurry"), message_id="m-1", sender=A)
    again = inbox.receive(note(rid, "please hurry"), message_id="m-2", sender=A)
    bare = inbox.receive(note(rid, "please hurry"), sender=A)
    assert first.ok
    assert again == first == bare  # the first confirmation, given again
    assert len(history(net, lid)) == len(before) + 1


def test_new_credentials_do_not_make_a_new_message() -> None:
    net, lid, rid = lent()
    inbox = net[C].institution.inbox
    message = note(rid, "hello")
    signed = attrs.evolve(
        message, header=attrs.evolve(message.header, authentication=Authentication("A", "s"))
    )
    assert content_digest(message) == content_digest(signed)
    before = len(history(net, lid))
    assert inbox.receive(message, message_id="m-1", sender=A).ok
    assert inbox.receive(signed, message_id="m-1", sender=A).ok
    assert len(history(net, lid)) == before + 1


def test_a_reused_id_with_different_content_is_refused_and_not_applied() -> None:
    net, lid, rid = lent()
    inbox = net[C].institution.inbox
    assert inbox.receive(note(rid, "first"), message_id="m-1", sender=A).ok
    before = history(net, lid)
    refused = inbox.receive(note(rid, "second", minute=1), message_id="m-1", sender=A)
    assert not refused.ok
    assert refused.error is not None
    assert refused.error.type is ErrorType.UNRECOGNISED_DATA_VALUE
    assert refused.error.value is not None
    assert "X-Message-ID: 'm-1' already names another message from ISIL:US-A" in (
        refused.error.value
    )
    assert history(net, lid) == before
    # the same second message under its own id is applied
    assert inbox.receive(note(rid, "second", minute=1), message_id="m-2", sender=A).ok
    assert len(history(net, lid)) == len(before) + 1


def test_the_same_message_at_another_time_is_another_message() -> None:
    net, lid, rid = lent()
    inbox = net[C].institution.inbox
    before = len(history(net, lid))
    assert inbox.receive(note(rid, "ping", minute=0), sender=A).ok
    assert inbox.receive(note(rid, "ping", minute=5), sender=A).ok
    assert len(history(net, lid)) == before + 2


@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.one_of(st.none(), st.sampled_from(["m-1", "m-2"]))),
        min_size=1,
        max_size=8,
    )
)
def test_any_deliveries_apply_each_content_once_and_refuse_only_a_reused_id(
    deliveries: list[tuple[int, str | None]],
) -> None:
    net, lid, rid = lent()
    inbox = net[C].institution.inbox
    start = len(history(net, lid))
    applied: set[int] = set()
    named: dict[str, int] = {}
    for content, message_id in deliveries:
        answer = inbox.receive(
            note(rid, f"note {content}", content), message_id=message_id, sender=A
        )
        if content in applied:
            assert answer.ok  # a re-delivery, under whatever id
            continue
        if message_id is not None and named.get(message_id, content) != content:
            assert answer.error is not None
            assert answer.error.type is ErrorType.UNRECOGNISED_DATA_VALUE
            continue
        assert answer.ok
        applied.add(content)
        if message_id is not None:
            named.setdefault(message_id, content)
    assert len(history(net, lid)) == start + len(applied)
