"""Rules of the topology write functions: each broken rule names its field, writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.errors import Forbidden, Invalid, Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.common.models import pk
from domains.topology.models import (
    Country,
    Endpoint,
    Ngi,
    Service,
    ServiceType,
    Site,
    SiteProperty,
)
from domains.topology.service import writes


def count(session: Session, model: type[Any]) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def first_id(session: Session, model: type[Any]) -> int:
    value = session.execute(select(model.id).order_by(model.id)).scalars().first()
    assert value is not None
    return int(value)


def expect_invalid(
    session: Session, model: type[Any], field: str, call: Callable[[], object]
) -> Invalid:
    before = count(session, model)
    with pytest.raises(Invalid) as caught:
        call()
    assert caught.value.field == field
    assert count(session, model) == before
    return caught.value


def new_site(session: Session, principal: Principal = PLATFORM, **fields: Any) -> Site:
    args: dict[str, Any] = {
        "short_name": "TEST-SITE-1",
        "ngi_id": first_id(session, Ngi),
        "country_id": first_id(session, Country),
    }
    args.update(fields)
    return writes.create_site(session, principal, **args)


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        ("shortName", {"short_name": "bad name!"}),
        ("latitude", {"latitude": 91.0}),
        ("longitude", {"longitude": -180.5}),
        ("giisUrl", {"giis_url": "http://bdii.example.org:2170"}),
        ("timezone", {"timezone": "Mars/Olympus_Mons"}),
        ("description", {"description": "no <script> please"}),
        ("description", {"description": "x" * 2001}),
    ],
)
def test_site_field_rules(session: Session, field: str, fields: dict[str, Any]) -> None:
    expect_invalid(session, Site, field, lambda: new_site(session, **fields))


def test_a_valid_site_gets_a_legacy_key(session: Session) -> None:
    site = new_site(
        session, latitude=-90.0, longitude=180.0, giis_url="ldap://bdii.example.org:2170"
    )
    assert site.primary_key == f"{site.id}G0"
    explicit = new_site(session, short_name="TEST-SITE-2", primary_key="9999G0")
    assert explicit.primary_key == "9999G0"


@pytest.mark.parametrize(
    ("principal", "error"),
    [(ANONYMOUS, Unauthenticated), (Principal(subject="someone", user_id=987654), Forbidden)],
)
def test_writes_need_a_role(session: Session, principal: Principal, error: type[Exception]) -> None:
    before = count(session, Site)
    with pytest.raises(error):
        new_site(session, principal)
    assert count(session, Site) == before


def _type(session: Session, *, exception: bool) -> ServiceType:
    return writes.create_service_type(
        session, PLATFORM, name=f"test.type.{int(exception)}", monitoring_exception=exception
    )


def test_production_requires_monitored_unless_the_type_is_excepted(session: Session) -> None:
    site = new_site(session)
    plain = _type(session, exception=False)
    excepted = _type(session, exception=True)
    assert plain.id is not None
    assert excepted.id is not None
    assert site.id is not None

    error = expect_invalid(
        session,
        Service,
        "monitored",
        lambda: writes.create_service(
            session,
            PLATFORM,
            site_id=pk(site),
            service_type_id=pk(plain),
            host_name="ce.test.example.org",
            production=True,
            monitored=False,
        ),
    )
    assert "monitored" in error.words
    ok = writes.create_service(
        session,
        PLATFORM,
        site_id=pk(site),
        service_type_id=pk(excepted),
        host_name="squid.test.example.org",
        production=True,
        monitored=False,
    )
    assert ok.primary_key == f"{ok.id}G0"
    not_production = writes.create_service(
        session,
        PLATFORM,
        site_id=pk(site),
        service_type_id=pk(plain),
        host_name="ce.test.example.org",
        production=False,
        monitored=False,
    )
    assert not_production.id is not None


def test_legacy_monitoring_exceptions(session: Session) -> None:
    site = new_site(session)
    voms = session.execute(select(ServiceType).where(ServiceType.name == "VOMS")).scalars().first()  # type: ignore[arg-type]
    if voms is None:
        voms = writes.create_service_type(session, PLATFORM, name="VOMS")
    voms.monitoring_exception = False
    session.flush()
    created = writes.create_service(
        session,
        PLATFORM,
        site_id=pk(site),
        service_type_id=pk(voms),
        host_name="voms.test.example.org",
        production=True,
        monitored=False,
    )
    assert created.monitored is False


def test_host_and_type_unique_across_sites(session: Session) -> None:
    site_a = new_site(session, short_name="TEST-A")
    site_b = new_site(session, short_name="TEST-B")
    stype = _type(session, exception=False)
    args: dict[str, Any] = {"service_type_id": pk(stype), "host_name": "se.test.example.org"}
    writes.create_service(session, PLATFORM, site_id=pk(site_a), **args)
    # the same pair again at the same site is allowed (GOCDB allows it)
    writes.create_service(session, PLATFORM, site_id=pk(site_a), **args)
    expect_invalid(
        session,
        Service,
        "hostName",
        lambda: writes.create_service(session, PLATFORM, site_id=pk(site_b), **args),
    )


def test_host_name_format(session: Session) -> None:
    site = new_site(session)
    stype = _type(session, exception=False)
    expect_invalid(
        session,
        Service,
        "hostName",
        lambda: writes.create_service(
            session,
            PLATFORM,
            site_id=pk(site),
            service_type_id=pk(stype),
            host_name="not a host",
        ),
    )


def test_endpoint_names_unique_within_a_service_and_defaults(session: Session) -> None:
    site = new_site(session)
    stype = _type(session, exception=False)
    svc = writes.create_service(
        session,
        PLATFORM,
        site_id=pk(site),
        service_type_id=pk(stype),
        host_name="ep.test.example.org",
        monitored=True,
    )
    assert svc.id is not None
    ep = writes.add_endpoint(session, PLATFORM, service_id=pk(svc), name="main", url="https://x")
    assert ep.interface_name == stype.name
    assert ep.monitored is True
    expect_invalid(
        session,
        Endpoint,
        "name",
        lambda: writes.add_endpoint(session, PLATFORM, service_id=pk(svc), name="main"),
    )


def test_property_limits(session: Session) -> None:
    site = new_site(session)
    assert site.id is not None
    for i in range(20):
        writes.set_property(
            session, PLATFORM, kind="site", owner_id=pk(site), key=f"k{i}", value="v"
        )
    # replacing an existing key is still fine at the limit
    writes.set_property(session, PLATFORM, kind="site", owner_id=pk(site), key="k0", value="new")
    expect_invalid(
        session,
        SiteProperty,
        "key",
        lambda: writes.set_property(
            session, PLATFORM, kind="site", owner_id=pk(site), key="k20", value="v"
        ),
    )
    other = new_site(session, short_name="TEST-SITE-3")
    expect_invalid(
        session,
        SiteProperty,
        "value",
        lambda: writes.set_property(
            session,
            PLATFORM,
            kind="site",
            owner_id=pk(other),
            key="long",
            value="x" * 256,
        ),
    )
    expect_invalid(
        session,
        SiteProperty,
        "key",
        lambda: writes.set_property(
            session, PLATFORM, kind="site", owner_id=pk(other), key="a b", value="v"
        ),
    )


@pytest.mark.parametrize(
    ("model", "field", "call"),
    [
        (Site, "shortName", lambda s: new_site(s, short_name=_existing(s, Site.short_name))),
        (Ngi, "name", lambda s: writes.create_ngi(s, PLATFORM, name=_existing(s, Ngi.name))),
        (
            Country,
            "code",
            lambda s: writes.create_country(s, PLATFORM, code=_existing(s, Country.code), name="X"),
        ),
        (
            ServiceType,
            "name",
            lambda s: writes.create_service_type(s, PLATFORM, name=_existing(s, ServiceType.name)),
        ),
        (Site, "primaryKey", lambda s: new_site(s, primary_key=_existing(s, Site.primary_key))),
        (Site, "primaryKey", lambda s: new_site(s, primary_key="G0-not-a-key")),
    ],
)
def test_duplicates_and_bad_keys_name_the_field(
    session: Session, model: type[Any], field: str, call: Callable[[Session], object]
) -> None:
    expect_invalid(session, model, field, lambda: call(session))


def _existing(session: Session, column: Any) -> str:
    value = session.execute(select(column).where(column.is_not(None)).limit(1)).scalar_one()
    return str(value)


def test_references_are_checked_before_anything_is_written(session: Session) -> None:
    from domains.common.errors import NotFound

    before = count(session, Ngi)
    with pytest.raises(NotFound):
        writes.create_ngi(session, PLATFORM, name="NGI_NEW", project_ids=[987654])
    assert count(session, Ngi) == before


def test_generated_legacy_key_never_collides_silently(session: Session) -> None:
    from domains.common.errors import Conflict

    # ids come one after another within a transaction (PostgreSQL sequences may have gaps
    # from earlier rolled-back tests, so the probe tells where they stand)
    probe = pk(new_site(session, short_name="PROBE"))
    # an imported site already holds the key that the site after it will be given
    new_site(session, short_name="IMPORTED", primary_key=f"{probe + 2}G0")
    with pytest.raises(Conflict):
        new_site(session, short_name="NEXT-ONE")


def test_single_label_host_names_are_refused(session: Session) -> None:
    site = new_site(session)
    stype = _type(session, exception=False)
    expect_invalid(
        session,
        Service,
        "hostName",
        lambda: writes.create_service(
            session, PLATFORM, site_id=pk(site), service_type_id=pk(stype), host_name="localhost"
        ),
    )


def test_tagging_is_idempotent_and_kinds_are_checked(session: Session) -> None:
    from domains.topology.models import Scope, SiteScope

    site = new_site(session)
    scope_id = pk(session.execute(select(Scope).limit(1)).scalar_one())
    writes.tag_scopes(session, PLATFORM, kind="site", owner_id=pk(site), scope_ids=[scope_id])
    writes.tag_scopes(
        session, PLATFORM, kind="site", owner_id=pk(site), scope_ids=[scope_id, scope_id]
    )
    tags = session.execute(
        select(func.count()).select_from(SiteScope).where(col(SiteScope.site_id) == pk(site))
    ).scalar_one()
    assert tags == 1
    with pytest.raises(Invalid) as caught:
        writes.tag_scopes(session, PLATFORM, kind="planet", owner_id=1, scope_ids=[scope_id])
    assert caught.value.field == "kind"


def test_new_site_records_when_its_status_was_set(session: Session) -> None:
    site = new_site(session)
    assert site.certification_status_changed_at is not None
    assert site.certification_status_changed_at.tzinfo is not None


@pytest.mark.parametrize(
    ("update", "id_field"),
    [
        (writes.update_site, "site_id"),
        (writes.update_service, "service_id"),
        (writes.update_endpoint, "endpoint_id"),
    ],
)
def test_updates_refuse_unknown_fields(
    session: Session, update: Callable[..., object], id_field: str
) -> None:
    model = {"site_id": Site, "service_id": Service, "endpoint_id": Endpoint}[id_field]
    # a real column that is not changeable here, and a name that is no attribute at all
    for key in ("ngi_id", "no_such_field"):
        with pytest.raises(Invalid) as caught:
            update(session, PLATFORM, **{id_field: first_id(session, model)}, changes={key: 1})
        assert caught.value.field == key
