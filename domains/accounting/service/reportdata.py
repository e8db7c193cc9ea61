"""The data the portal's reports rank by, which accounting owns (the topology stays GOCDB's):
WLCG's federations (a tier 1 or 2 of sites, in a country) and their yearly CPU pledges in
HEPSPEC06, and the VOs' scientific disciplines (a tree: a discipline may have a parent).

Platform administrators set them, each call one transaction, audited like the other
accounting administration (`accounting_wlcg_federation.create|update`,
`accounting_wlcg_pledge.…`, `accounting_discipline.…`); anybody reads them, as they are
public in WLCG's REBUS and EGI's portal. Member sites are named by short name and must be
registered; a site is in one federation at most."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.models import (
    Discipline,
    VoDiscipline,
    WlcgFederation,
    WlcgFederationSite,
    WlcgPledge,
)
from domains.accounting.rules import AccountingRule as R
from domains.accounting.rules import Action
from domains.common import audit
from domains.common.authz import authorize
from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.common.models import pk
from domains.topology.models import Country, Site

_FEDERATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_VO = re.compile(r"\S{1,255}")
TIERS = (1, 2)
MAX_PLEDGE = 1_000_000_000.0


@dataclass(frozen=True, slots=True)
class Pledge:
    year: int
    cpu_hs06: float


@dataclass(frozen=True, slots=True)
class Federation:
    id: int
    name: str
    country: str
    tier: int
    sites: tuple[str, ...]  # short names, sorted
    pledges: tuple[Pledge, ...]  # by year

    def pledge_in(self, year: int) -> float | None:
        return next((p.cpu_hs06 for p in self.pledges if p.year == year), None)


@dataclass(frozen=True, slots=True)
class DisciplineRow:
    id: int
    name: str
    parent: str | None
    vos: tuple[str, ...]  # the VOs mapped to it (not to the ones below it), sorted


# --- reads (public) ---------------------------------------------------------------------


def federations(session: Session, *, tier: int | None = None) -> list[Federation]:
    """Every federation (of `tier`), by name, with its sites and pledges."""
    stmt = select(WlcgFederation).order_by(col(WlcgFederation.name))
    if tier is not None:
        stmt = stmt.where(col(WlcgFederation.tier) == tier)
    rows = list(session.execute(stmt).scalars())
    ids = [pk(r) for r in rows]
    sites: dict[int, list[str]] = {}
    for fid, site in session.execute(
        select(col(WlcgFederationSite.federation_id), col(WlcgFederationSite.site))
        .where(col(WlcgFederationSite.federation_id).in_(ids))
        .order_by(col(WlcgFederationSite.site))
    ):
        sites.setdefault(int(fid), []).append(str(site))
    pledges: dict[int, list[Pledge]] = {}
    for fid, year, cpu in session.execute(
        select(col(WlcgPledge.federation_id), col(WlcgPledge.year), col(WlcgPledge.cpu_hs06))
        .where(col(WlcgPledge.federation_id).in_(ids))
        .order_by(col(WlcgPledge.year))
    ):
        pledges.setdefault(int(fid), []).append(Pledge(int(year), float(cpu)))
    return [
        Federation(
            pk(r),
            r.name,
            r.country,
            r.tier,
            tuple(sites.get(pk(r), ())),
            tuple(pledges.get(pk(r), ())),
        )
        for r in rows
    ]


def federation_of_sites(session: Session) -> dict[str, tuple[str, int]]:
    """Each member site's federation and tier (the export's `federation` and `tier`)."""
    found = session.execute(
        select(
            col(WlcgFederationSite.site), col(WlcgFederation.name), col(WlcgFederation.tier)
        ).join(WlcgFederation, col(WlcgFederation.id) == col(WlcgFederationSite.federation_id))
    )
    return {str(site): (str(name), int(tier)) for site, name, tier in found}


def disciplines(session: Session) -> list[DisciplineRow]:
    """Every discipline, by name, with its parent's name and its VOs."""
    rows = list(session.execute(select(Discipline).order_by(col(Discipline.name))).scalars())
    names = {pk(r): r.name for r in rows}
    vos: dict[int, list[str]] = {}
    for did, vo in session.execute(
        select(col(VoDiscipline.discipline_id), col(VoDiscipline.vo)).order_by(col(VoDiscipline.vo))
    ):
        vos.setdefault(int(did), []).append(str(vo))
    return [
        DisciplineRow(
            pk(r),
            r.name,
            None if r.parent_id is None else names[r.parent_id],
            tuple(vos.get(pk(r), ())),
        )
        for r in rows
    ]


# --- writes (platform administrators) ----------------------------------------------------


def _country(session: Session, text: str) -> str:
    found = session.execute(
        select(col(Country.name)).where(or_(col(Country.name) == text, col(Country.code) == text))
    ).scalar_one_or_none()
    if found is None:
        raise Invalid("country", R.ACCOUNTING_COUNTRY_UNKNOWN)
    return str(found)


def _sites(session: Session, names: Iterable[str], federation_id: int | None) -> list[str]:
    wanted = sorted(set(names))
    known = set(
        session.execute(select(col(Site.short_name)).where(col(Site.short_name).in_(wanted)))
        .scalars()
        .all()
    )
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise Invalid(
            "sites", R.ACCOUNTING_FEDERATION_SITE_UNKNOWN, f"sites: no site {unknown[0]!r}"
        )
    taken = session.execute(
        select(col(WlcgFederationSite.site), col(WlcgFederation.name))
        .join(WlcgFederation, col(WlcgFederation.id) == col(WlcgFederationSite.federation_id))
        .where(col(WlcgFederationSite.site).in_(wanted))
        .where(col(WlcgFederation.id) != (federation_id or 0))
    ).first()
    if taken is not None:
        raise Invalid(
            "sites",
            R.ACCOUNTING_FEDERATION_SITE_TAKEN,
            f"sites: {taken[0]!r} is in federation {taken[1]!r}",
        )
    return wanted


def set_federation(
    session: Session,
    principal: Principal,
    *,
    name: str,
    country: str,
    tier: int,
    sites: list[str],
) -> Federation:
    """Create or update the federation `name`: its country, tier and (all of) its sites."""
    authorize(session, principal, Action.MANAGE_REPORT_DATA)
    if not _FEDERATION.fullmatch(name):
        raise Invalid("name", R.ACCOUNTING_FEDERATION_NAME)
    if tier not in TIERS:
        raise Invalid("tier", R.ACCOUNTING_TIER_INVALID)
    country_name = _country(session, country)
    row = session.execute(
        select(WlcgFederation).where(col(WlcgFederation.name) == name)
    ).scalar_one_or_none()
    members = _sites(session, sites, None if row is None else pk(row))
    verb = "create" if row is None else "update"
    before_sites = [] if row is None else _members(session, pk(row))
    changes: dict[str, list[object]] = {}
    if row is None:
        row = WlcgFederation(name=name, country=country_name, tier=tier)
        session.add(row)
        session.flush()
        changes = {"name": [None, name], "country": [None, country_name], "tier": [None, tier]}
    else:
        for field, value in (("country", country_name), ("tier", tier)):
            if getattr(row, field) != value:
                changes[field] = [getattr(row, field), value]
                setattr(row, field, value)
    if before_sites != members:
        changes["sites"] = [before_sites or None, members]
        session.execute(
            delete(WlcgFederationSite).where(col(WlcgFederationSite.federation_id) == pk(row))
        )
        session.add_all(WlcgFederationSite(federation_id=pk(row), site=s) for s in members)
    session.flush()
    if changes:
        audit.record_change(session, principal, "accounting_wlcg_federation", verb, row, changes)
    (found,) = [f for f in federations(session) if f.id == pk(row)]
    return found


def _members(session: Session, federation_id: int) -> list[str]:
    return sorted(
        session.execute(
            select(col(WlcgFederationSite.site)).where(
                col(WlcgFederationSite.federation_id) == federation_id
            )
        )
        .scalars()
        .all()
    )


def set_pledge(
    session: Session, principal: Principal, *, federation: str, year: int, cpu_hs06: float
) -> Federation:
    """Set the federation's CPU pledge for `year` (replacing the one there is)."""
    authorize(session, principal, Action.MANAGE_REPORT_DATA)
    row = session.execute(
        select(WlcgFederation).where(col(WlcgFederation.name) == federation)
    ).scalar_one_or_none()
    if row is None:
        raise Invalid("federation", R.ACCOUNTING_FEDERATION_UNKNOWN)
    if not 2000 <= year <= 9999:
        raise Invalid("year", R.ACCOUNTING_PLEDGE_YEAR_INVALID)
    if not (math.isfinite(cpu_hs06) and 0 <= cpu_hs06 <= MAX_PLEDGE):
        raise Invalid("cpuHs06", R.ACCOUNTING_PLEDGE_INVALID)
    pledge = session.execute(
        select(WlcgPledge).where(
            col(WlcgPledge.federation_id) == pk(row), col(WlcgPledge.year) == year
        )
    ).scalar_one_or_none()
    before = None if pledge is None else pledge.cpu_hs06
    if pledge is None:
        pledge = WlcgPledge(federation_id=pk(row), year=year, cpu_hs06=cpu_hs06)
        session.add(pledge)
    pledge.cpu_hs06 = cpu_hs06
    session.flush()
    if before != cpu_hs06:
        verb = "create" if before is None else "update"
        changes: dict[str, list[object]] = {"cpu_hs06": [before, cpu_hs06]}
        if before is None:
            changes |= {"federation": [None, federation], "year": [None, year]}
        audit.record_change(session, principal, "accounting_wlcg_pledge", verb, pledge, changes)
    (found,) = [f for f in federations(session) if f.id == pk(row)]
    return found


def _discipline(session: Session, name: str, field: str) -> Discipline:
    found = session.execute(
        select(Discipline).where(col(Discipline.name) == name)
    ).scalar_one_or_none()
    if found is None:
        raise Invalid(field, R.ACCOUNTING_DISCIPLINE_UNKNOWN, f"{field}: no discipline {name!r}")
    return found


def _check_discipline_name(name: str) -> None:
    if not 1 <= len(name) <= 128 or ";" in name or name != name.strip():
        raise Invalid("name", R.ACCOUNTING_DISCIPLINE_NAME)


def set_discipline(
    session: Session,
    principal: Principal,
    *,
    name: str,
    parent: str | None,
    vos: list[str],
) -> DisciplineRow:
    """Create or update the discipline `name`: its parent (None: at the top) and the VOs
    counted for it (all of them: a VO listed moves here from any other discipline; one left
    out that was here counts for none)."""
    authorize(session, principal, Action.MANAGE_REPORT_DATA)
    _check_discipline_name(name)
    bad_vo = next((v for v in vos if not _VO.fullmatch(v)), None)
    if bad_vo is not None:
        raise Invalid("vos", R.ACCOUNTING_VO_NAME_INVALID)
    row = session.execute(
        select(Discipline).where(col(Discipline.name) == name)
    ).scalar_one_or_none()
    parent_row = None if parent is None else _discipline(session, parent, "parent")
    if parent_row is not None and row is not None:
        ancestor: Discipline | None = parent_row
        while ancestor is not None:  # the new parent's chain must not reach this one
            if pk(ancestor) == pk(row):
                raise Invalid("parent", R.ACCOUNTING_DISCIPLINE_CYCLE)
            ancestor = (
                None if ancestor.parent_id is None else session.get(Discipline, ancestor.parent_id)
            )
    parent_id = None if parent_row is None else pk(parent_row)
    changes: dict[str, list[object]] = {}
    verb = "create" if row is None else "update"
    if row is None:
        row = Discipline(name=name, parent_id=parent_id)
        session.add(row)
        session.flush()
        changes = {"name": [None, name], "parent": [None, parent]}
    elif row.parent_id != parent_id:
        old = None if row.parent_id is None else session.get(Discipline, row.parent_id)
        changes["parent"] = [None if old is None else old.name, parent]
        row.parent_id = parent_id
    wanted = sorted(set(vos))
    before = sorted(
        session.execute(
            select(col(VoDiscipline.vo)).where(col(VoDiscipline.discipline_id) == pk(row))
        ).scalars()
    )
    if before != wanted:
        changes["vos"] = [before or None, wanted]
        session.execute(
            delete(VoDiscipline).where(
                or_(
                    col(VoDiscipline.discipline_id) == pk(row),
                    col(VoDiscipline.vo).in_(wanted),
                )
            )
        )
        session.add_all(VoDiscipline(vo=vo, discipline_id=pk(row)) for vo in wanted)
    session.flush()
    if changes:
        audit.record_change(session, principal, "accounting_discipline", verb, row, changes)
    (found,) = [d for d in disciplines(session) if d.id == pk(row)]
    return found
