"""Every notice renders in every shipped language, whatever its text; the [notifier] factory."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from resource_sharing.effects import NoticeKind, NotifyPatron, NotifyStaff
from resource_sharing.errors import InvalidInput
from resource_sharing.records import PatronRef
from resource_sharing_adapters.email import (
    EmailNotifier,
    NoticeDetails,
    SmtpSettings,
    Templates,
    from_config,
)

TEMPLATES = Templates(timezone="Europe/Berlin")
optional_text = st.none() | st.text(min_size=1, max_size=40)
moments = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def notices(draw: st.DrawFn) -> tuple[NotifyPatron, NoticeDetails]:
    patron = PatronRef(
        draw(st.text(min_size=1, max_size=12)), draw(optional_text), email="p@patrons.example"
    )
    notice = NotifyPatron(
        patron,
        draw(st.sampled_from(NoticeKind)),
        draw(st.from_regex(r"B-[0-9A-Za-z]{1,10}", fullmatch=True)),
        due=draw(moments),
        detail=draw(optional_text),
    )
    details = NoticeDetails(draw(optional_text), draw(optional_text), draw(moments))
    return notice, details


def test_every_kind_has_a_template_in_every_language() -> None:
    assert TEMPLATES.languages() == ["de", "en"]
    names = set(TEMPLATES.env.list_templates())
    for language in TEMPLATES.languages():
        for kind in [*NoticeKind, "staff"]:
            name = kind.value if isinstance(kind, NoticeKind) else kind
            assert {f"{language}/{name}.txt", f"{language}/{name}.html"} <= names


@given(notices(), st.sampled_from(["en", "de", "de-AT", "en-US", "fr", None]))
def test_any_notice_renders_with_its_text_escaped_in_html(
    drawn: tuple[NotifyPatron, NoticeDetails], language: str | None
) -> None:
    notice, details = drawn
    notifier = EmailNotifier(
        SmtpSettings(),
        sender="ill@library.example",
        institution="Library <&> Co",
        patron_language=lambda _: language,
        details=lambda _: details,
        templates=TEMPLATES,
    )
    message, chosen = notifier.patron_message(notice, key="k")
    assert chosen == ("de" if language and language.startswith("de") else "en")
    subject = message["Subject"]
    assert subject
    assert "\n" not in subject
    text = message.get_body(("plain",))
    body = message.get_body(("html",))
    assert text is not None
    assert body is not None
    plain, markup = text.get_content(), body.get_content()
    assert notice.request_id in plain
    assert notice.request_id in markup
    assert "Library &lt;&amp;&gt; Co" in markup
    for value in (notice.detail, details.title, notice.patron.name):
        if value and "<" in value:
            assert value not in markup.replace(html.escape(value), "")


def test_dates_follow_the_time_zone() -> None:
    late = datetime(2026, 10, 7, 23, 30, tzinfo=UTC)  # already the 8th in Berlin
    notice = NotifyPatron(PatronRef("p", email="p@x.example"), NoticeKind.DUE_SOON, "B-1", due=late)
    notifier = EmailNotifier(
        SmtpSettings(), sender="ill@library.example", institution="L", templates=TEMPLATES
    )
    text = notifier.patron_message(notice, key="k")[0].get_body(("plain",))
    assert text is not None
    assert "October 8, 2026" in text.get_content()  # plain "en" is US English


def test_staff_notice_is_written_in_the_staff_language() -> None:
    notifier = EmailNotifier(
        SmtpSettings(),
        sender="ill@library.example",
        institution="L",
        staff_language="de",
        templates=TEMPLATES,
    )
    message = notifier.staff_message(NotifyStaff("L-1", "Bitte prüfen."), ["s@x.example"], key="k")
    assert message["Subject"] == "Fernleihe: Bestellung L-1 braucht Bearbeitung"


def test_the_notifier_factory_reads_its_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SMTP_PW", "pw")
    (tmp_path / "mail").mkdir()
    context = attrs.make_class("Ctx", ["name", "base"])("Example Library", tmp_path)
    notifier = from_config(
        {
            "factory": "resource_sharing_adapters.email:from_config",
            "sender": "ill@library.example",
            "default_language": "de",
            "timezone": "Europe/Berlin",
            "template_folder": "mail",
            "patron_language": "operator:attrgetter",
            "smtp": {
                "host": "smtp.example",
                "port": 2525,
                "username": "ill",
                "password_env": "SMTP_PW",
            },
            "staff": {"*": ["ill@library.example"]},
        },
        context,
    )
    assert notifier.institution == "Example Library"
    assert (notifier.smtp.host, notifier.smtp.port, notifier.smtp.password) == (
        "smtp.example",
        2525,
        "pw",
    )
    assert notifier.default_language == "de"
    assert notifier.templates.zone.key == "Europe/Berlin"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ({}, "sender"),
        ({"sender": "x@y", "colour": 1}, "colour"),
        ({"sender": "x@y", "smtp": {"port": 0}}, "smtp.port"),
        ({"sender": "x@y", "smtp": {"security": "ssl3"}}, "smtp.security"),
        (
            {"sender": "x@y", "smtp": {"password_env": "NOT_SET_ANYWHERE_42"}},
            "smtp.password_env",
        ),
        ({"sender": "x@y", "timezone": "Mars/Olympus"}, "timezone"),
        ({"sender": "x@y", "default_language": "tlh"}, "default_language"),
        ({"sender": "x@y", "staff": {"*": "a@b"}}, "staff"),
        (
            {"sender": "x@y", "patron_language": "no_such_module:f"},
            "patron_language",
        ),
        ({"sender": "x@y", "template_folder": "nowhere"}, "template_folder"),
    ],
)
def test_bad_notifier_tables_are_refused_naming_the_key(
    table: dict[str, object], where: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        from_config(table, None)
    assert str(raised.value).startswith(where)


def test_due_dates_are_not_shifted_for_a_utc_institution() -> None:
    due = datetime(2026, 1, 31, tzinfo=UTC) + timedelta(hours=12)
    rendered = Templates().render(
        "renewed",
        "en",
        {
            "institution": "L",
            "kind": "renewed",
            "request_id": "B",
            "patron_name": None,
            "patron_id": "p",
            "due": due,
            "detail": None,
            "title": None,
            "pickup_location": None,
            "pickup_by": None,
        },
    )
    assert "The new due date is January 31, 2026." in rendered.text
