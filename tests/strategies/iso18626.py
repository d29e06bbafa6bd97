"""Hypothesis strategies for the protocol-neutral messages the codec round-trips.

Values are drawn the way the wire can carry them: text without surrounding whitespace or
characters XML 1.0 cannot hold, aware UTC datetimes in whole seconds, due and
need-before dates at 23:59:59.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

from hypothesis import strategies as st

from resource_sharing.iso18626 import (
    Action,
    ErrorType,
    MessageStatus,
    ReasonForMessage,
    RequestSubType,
    RequestType,
    ServiceType,
    Status,
)
from resource_sharing.messages import (
    Address,
    Authentication,
    BillingInfo,
    Confirmation,
    DeliveryInfo,
    ErrorData,
    Header,
    MessageKind,
    PatronInfo,
    Request,
    RequestingAgencyInfo,
    RequestingAgencyMessage,
    ReturnInfo,
    ServiceInfo,
    SupplierInfo,
    SupplyingAgencyMessage,
)
from resource_sharing.records import AgencyId, Citation, Identifier, Money

V2021_STATUSES = frozenset({Status.HOLD_RETURN, Status.RELEASE_HOLD_RETURN})
V2021_ACTIONS = frozenset({Action.HOLD_RETURN, Action.LOST})

_chars = st.characters(
    codec="utf-8",
    exclude_categories=("Cs", "Cc"),
    exclude_characters="\ufffe\uffff",
) | st.sampled_from("\n\t<>&'\"")
text = st.text(_chars, min_size=1, max_size=20).map(str.strip).filter(bool)
maybe_text = st.none() | text
stamps = st.datetimes(
    min_value=datetime(1900, 1, 1),
    max_value=datetime(2200, 12, 31),
    timezones=st.just(UTC),
).map(lambda d: d.replace(microsecond=0))
maybe_stamp = st.none() | stamps
end_of_day = stamps.map(lambda d: datetime.combine(d.date(), time(23, 59, 59), tzinfo=UTC))
agencies = st.builds(AgencyId, value=text, type=text)
identifiers = st.builds(Identifier, code=text, value=text)
money = st.builds(
    Money,
    amount=st.decimals(
        min_value=Decimal("-1e9"),
        max_value=Decimal("1e9"),
        allow_nan=False,
        allow_infinity=False,
        places=2,
    ),
    currency=text,
)

physical_addresses = st.builds(
    Address,
    line1=maybe_text,
    line2=maybe_text,
    locality=maybe_text,
    postal_code=maybe_text,
    region=maybe_text,
    country=maybe_text,
).filter(lambda a: a != Address())
electronic_addresses = st.builds(Address, electronic_type=text, electronic_data=text)
addresses = physical_addresses | electronic_addresses


def headers(*, request: bool = False) -> st.SearchStrategy[Header]:
    """A message header."""
    return st.builds(
        Header,
        requesting_agency=agencies,
        supplying_agency=agencies,
        requesting_agency_request_id=text,
        timestamp=stamps,
        supplying_agency_request_id=maybe_text,
        multiple_item_request_id=maybe_text,
        authentication=st.none()
        | st.builds(Authentication, account_id=maybe_text, security_code=maybe_text).filter(
            lambda a: a != Authentication()
        ),
    )


citations = st.builds(
    Citation,
    title=maybe_text,
    author=maybe_text,
    subtitle=maybe_text,
    series_title=maybe_text,
    edition=maybe_text,
    title_of_component=maybe_text,
    author_of_component=maybe_text,
    volume=maybe_text,
    issue=maybe_text,
    pages_requested=maybe_text,
    item_ids=st.lists(identifiers, max_size=2).map(tuple),
    record_ids=st.lists(identifiers, max_size=2).map(tuple),
    supplier_unique_record_id=maybe_text,
    publisher=maybe_text,
    publication_type=maybe_text,
    publication_date=maybe_text,
    place_of_publication=maybe_text,
)

services = st.builds(
    ServiceInfo,
    service_type=st.sampled_from(ServiceType),
    request_type=st.none() | st.sampled_from(RequestType),
    request_subtypes=st.lists(st.sampled_from(RequestSubType), max_size=3).map(tuple),
    previous_request_id=maybe_text,
    service_level=maybe_text,
    preferred_format=maybe_text,
    need_before=st.none() | end_of_day,
    copyright_compliance=maybe_text,
    any_edition=st.none() | st.booleans(),
    start_date=maybe_stamp,
    end_date=maybe_stamp,
    note=maybe_text,
)

requests = st.builds(
    Request,
    header=headers(request=True),
    citation=citations,
    service=services,
    suppliers=st.lists(
        st.builds(
            SupplierInfo,
            sort_order=st.none() | st.integers(min_value=0, max_value=10**6),
            supplier=st.none() | agencies,
            description=maybe_text,
            call_number=maybe_text,
            summary_holdings=maybe_text,
            availability_note=maybe_text,
            record_id=st.none() | identifiers,
        ),
        max_size=2,
    ).map(tuple),
    delivery_addresses=st.lists(addresses, max_size=2).map(tuple),
    requesting_agency_info=st.none()
    | st.builds(
        RequestingAgencyInfo,
        name=maybe_text,
        contact_name=maybe_text,
        addresses=st.lists(addresses, max_size=2).map(tuple),
    ),
    patron=st.none()
    | st.builds(
        PatronInfo,
        patron_id=maybe_text,
        surname=maybe_text,
        given_name=maybe_text,
        patron_type=maybe_text,
        send_to_patron=st.none() | st.booleans(),
        addresses=st.lists(addresses, max_size=2).map(tuple),
    ),
    billing=st.none()
    | st.builds(
        BillingInfo,
        payment_method=maybe_text,
        maximum_costs=st.none() | money,
        billing_method=maybe_text,
        billing_name=maybe_text,
        address=st.none() | addresses,
    ),
)

deliveries = st.builds(
    DeliveryInfo,
    date_sent=stamps,
    item_id=maybe_text,
    sent_via=maybe_text,
    sent_to_patron=st.none() | st.booleans(),
    loan_condition=maybe_text,
    delivered_format=maybe_text,
    delivery_costs=st.none() | money,
)
return_infos = st.builds(
    ReturnInfo,
    return_agency=st.none() | agencies,
    name=maybe_text,
    address=st.none() | physical_addresses,
).filter(lambda r: r != ReturnInfo())


def supplying_messages(*, v2021: bool = True) -> st.SearchStrategy[SupplyingAgencyMessage]:
    """A supplying agency message (2021-only statuses excluded unless ``v2021``)."""
    statuses = st.sampled_from([s for s in Status if v2021 or s not in V2021_STATUSES])
    return st.builds(
        SupplyingAgencyMessage,
        header=headers(),
        reason=st.sampled_from(ReasonForMessage),
        status=statuses,
        last_change=stamps,
        answer=st.none() | st.booleans(),
        note=maybe_text,
        reason_unfilled=maybe_text,
        reason_retry=maybe_text,
        offered_costs=st.none() | money,
        retry_after=maybe_stamp,
        retry_before=maybe_stamp,
        expected_delivery=maybe_stamp,
        due_date=st.none() | end_of_day,
        delivery=st.none() | deliveries,
        return_info=st.none() | return_infos,
    )


def actions(*, v2021: bool = True) -> st.SearchStrategy[Action]:
    """An action (2021-only ones excluded unless ``v2021``)."""
    return st.sampled_from([a for a in Action if v2021 or a not in V2021_ACTIONS])


def requesting_messages(*, v2021: bool = True) -> st.SearchStrategy[RequestingAgencyMessage]:
    """A requesting agency message."""
    return st.builds(
        RequestingAgencyMessage, header=headers(), action=actions(v2021=v2021), note=maybe_text
    )


@st.composite
def confirmations(draw: st.DrawFn, *, v2021: bool = True) -> Confirmation:
    """A confirmation of any kind, with an error exactly when it says ERROR."""
    kind = draw(st.sampled_from(MessageKind))
    status = draw(st.sampled_from(MessageStatus))
    error = None
    if status is MessageStatus.ERROR:
        error = ErrorData(draw(st.sampled_from(ErrorType)), draw(maybe_text))
    return Confirmation(
        confirms=kind,
        status=status,
        timestamp=draw(stamps),
        timestamp_received=draw(stamps),
        supplying_agency=draw(st.none() | agencies),
        requesting_agency=draw(st.none() | agencies),
        requesting_agency_request_id=draw(maybe_text),
        multiple_item_request_id=draw(maybe_text),
        error=error,
        reason=draw(st.none() | st.sampled_from(ReasonForMessage))
        if kind is MessageKind.SUPPLYING_AGENCY_MESSAGE
        else None,
        action=draw(st.none() | actions(v2021=v2021))
        if kind is MessageKind.REQUESTING_AGENCY_MESSAGE
        else None,
    )


def messages(
    *, v2021: bool = True
) -> st.SearchStrategy[Request | SupplyingAgencyMessage | RequestingAgencyMessage | Confirmation]:
    """Any message or confirmation."""
    return st.one_of(
        requests,
        supplying_messages(v2021=v2021),
        requesting_messages(v2021=v2021),
        confirmations(v2021=v2021),
    )
