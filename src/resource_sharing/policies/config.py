"""The configuration the policies read, as frozen records.

Theory of operation
-------------------
Configuration is data passed in with each call, never read from a global: the lifecycle
(or the application service) looks up the right record and hands it to the policy.

- What a *lender* grants a borrower is :class:`~resource_sharing.directory.PartnerTerms`
  (loan period, renewals, maximum renew date and loan duration, answer days); the lender
  uses the terms it lends to that borrower on, the borrower the terms the lender
  advertises.
- What the *borrower* allows its own patrons is :class:`PatronLoanRules` (return buffer,
  :class:`PatronRenewalRules`, recall period).
- What the *lender* does about its own patrons' holds is :class:`RecallRules`.
- How long each timer runs is :class:`TimerPolicy`, per institution.

Every day count is validated on construction: a negative one raises
:class:`~resource_sharing.errors.InvalidInput`.
"""

from __future__ import annotations

from typing import Any, final

import attrs

from resource_sharing.policies._checks import not_negative

__all__ = [
    "PatronLoanRules",
    "PatronRenewalRules",
    "RecallRules",
    "TimerPolicy",
]


def _days(_instance: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None:
        not_negative(attribute.name, value)


@final
@attrs.frozen
class PatronRenewalRules:
    """The borrower's own rules for a patron's (or staff's) renewal request."""

    enabled: bool = True
    """Patrons may ask to renew interlibrary loans at all."""
    window_days: int | None = attrs.field(default=7, validator=_days)
    """A patron may ask only this many days before the patron due date (None: any time)."""
    allowed_groups: frozenset[str] | None = None
    """Patron groups that may renew (None: every group)."""
    max_renewals: int | None = attrs.field(default=None, validator=_days)
    """Renewals the borrower lets a patron ask for (None: leave it to the lender)."""
    mediated: bool = False
    """A patron's renewal waits for staff before it goes to the lender."""
    allow_after_refusal: bool = False
    """A patron may ask again after the lender said no (default: told no, stays no)."""
    requested_days: int | None = attrs.field(default=None, validator=_days)
    """Ask the lender for its due date plus this many days (None: let the lender choose)."""


@final
@attrs.frozen
class PatronLoanRules:
    """The borrowing institution's loan rules for interlibrary loans to its patrons."""

    return_buffer_days: int = attrs.field(default=3, validator=_days)
    """The patron's due date is the lender's minus this many days (time to ship it back)."""
    renewal: PatronRenewalRules = attrs.field(factory=PatronRenewalRules)
    """What patrons may renew, and how."""
    recall_period_days: int = attrs.field(default=7, validator=_days)
    """On a recall the patron gets at most this many days from the recall."""


@final
@attrs.frozen
class RecallRules:
    """The lending institution's rules about its own patrons' holds on lent items."""

    recall_on_local_hold: bool = True
    """A local hold recalls a lent item automatically (else it becomes a staff task)."""
    recall_period_days: int = attrs.field(default=14, validator=_days)
    """The recall due date asked of the borrower: this many days after the recall."""


@final
@attrs.frozen
class TimerPolicy:
    """How long each timer runs at one institution; ``None`` switches a timer off.

    The lender's answer expiry is per partner (``PartnerTerms.answer_days``), not here.
    """

    conditional_answer_days: int | None = attrs.field(default=7, validator=_days)
    """Business days (borrower's calendar) to accept or reject a lender's conditions."""
    not_received_days: int | None = attrs.field(default=14, validator=_days)
    """Calendar days after shipping (borrower's calendar) before claiming non-receipt."""
    due_reminder_days: int | None = attrs.field(default=3, validator=_days)
    """Calendar days before the patron's due date to remind the patron."""
    return_unconfirmed_days: int | None = attrs.field(default=14, validator=_days)
    """Calendar days after shipping back (borrower's calendar) before asking the lender."""
    hold_shelf_days: int | None = attrs.field(default=7, validator=_days)
    """Business days (borrower's calendar) an item waits on the hold shelf for the patron."""
    supply_expiry_days: int | None = attrs.field(default=4, validator=_days)
    """Business days (lender's calendar) a lending request waits for an answer."""
