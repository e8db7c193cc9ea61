"""Per-request loaders of the topology. Each batch fetched hints the loaders of the next
level with every key it found, so a nested query costs one statement per level."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from domains.common.context import RequestContext
from domains.common.loaders import BatchLoader, many_by_owner, one_by_id, prime
from domains.common.query import Record
from domains.identity.models import EntityKind
from domains.topology import roles, service
from domains.topology.service import CredentialView

# --- single objects -----------------------------------------------------------------


def project(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return one_by_id(ctx, ("topology", "project"), service.projects_by_id, after_projects)


def ngi(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return one_by_id(ctx, ("topology", "ngi"), service.ngis_by_id, after_ngis)


def site(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return one_by_id(ctx, ("topology", "site"), service.sites_by_id, after_sites)


def service_(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return one_by_id(ctx, ("topology", "service"), service.services_by_id, after_services)


def endpoint(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return one_by_id(ctx, ("topology", "endpoint"), service.endpoints_by_id, after_endpoints)


def service_type(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return one_by_id(ctx, ("topology", "service_type"), service.service_types_by_id)


def service_group(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return one_by_id(ctx, ("topology", "service_group"), service.service_groups_by_id, after_groups)


def scope(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return one_by_id(ctx, ("topology", "scope"), service.scopes_by_id)


def personal_data(ctx: RequestContext) -> roles.PersonalData:
    """The service layer's decision on which personal data this caller may read, made once
    per request."""
    decided = ctx.memo.get("personal_data")
    if decided is None:
        decided = ctx.memo["personal_data"] = roles.PersonalData(
            ctx.session, ctx.principal, restricted=ctx.restrict_personal_data
        )
    assert isinstance(decided, roles.PersonalData)
    return decided


# --- children of a parent ------------------------------------------------------------


def roles_over(ctx: RequestContext, kind: EntityKind) -> BatchLoader[int, list[roles.HeldRole]]:
    """Granted roles over sites or NGIs, those whose holders the caller may see."""
    read = partial(roles.granted_roles_over, ctx.session, personal_data(ctx), kind)
    return many_by_owner(ctx, ("topology", f"roles_over_{kind.value}"), read)


def sites_of_ngi(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.sites_by_ngi, ctx.session, ctx.principal)
    return many_by_owner(ctx, ("topology", "sites_of_ngi"), read, after_sites)


def services_of_site(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.services_by_site, ctx.session, ctx.principal)
    return many_by_owner(ctx, ("topology", "services_of_site"), read, after_services)


def endpoints_of_service(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.endpoints_by_service, ctx.session, ctx.principal)
    return many_by_owner(ctx, ("topology", "endpoints_of_service"), read, after_endpoints)


def services_of_group(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.services_by_group, ctx.session, ctx.principal)
    return many_by_owner(ctx, ("topology", "services_of_group"), read, after_services)


def ngis_of_project(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.ngis_by_project, ctx.session, ctx.principal)
    return many_by_owner(ctx, ("topology", "ngis_of_project"), read, after_ngis)


def projects_of_ngi(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.projects_by_ngi, ctx.session, ctx.principal)
    return many_by_owner(ctx, ("topology", "projects_of_ngi"), read, after_projects)


def api_credentials_of_site(ctx: RequestContext) -> BatchLoader[int, list[CredentialView]]:
    read = partial(service.credentials_by_site, ctx.session)
    return many_by_owner(ctx, ("topology", "api_credentials_of_site"), read)


def certification_history(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.certification_history, ctx.session, ctx.principal)
    return many_by_owner(ctx, ("topology", "certification_history"), read)


def scopes_of(ctx: RequestContext, kind: str) -> BatchLoader[int, list[Record]]:
    read = partial(service.scopes_of, ctx.session, ctx.principal, kind)
    return many_by_owner(ctx, ("topology", f"scopes_of_{kind}"), read)


def properties_of(ctx: RequestContext, kind: str) -> BatchLoader[int, list[Record]]:
    read = partial(service.properties_of, ctx.session, ctx.principal, kind)
    return many_by_owner(ctx, ("topology", f"properties_of_{kind}"), read)


# --- hints: what a batch of rows of one kind makes likely next --------------------------


def after_projects(ctx: RequestContext, rows: Iterable[Record]) -> None:
    ids = [row.id for row in rows]
    ngis_of_project(ctx).hint(ids)


def after_ngis(ctx: RequestContext, rows: Iterable[Record]) -> None:
    rows = list(rows)
    prime(ngi(ctx), rows)
    ids = [row.id for row in rows]
    sites_of_ngi(ctx).hint(ids)
    scopes_of(ctx, "ngi").hint(ids)
    projects_of_ngi(ctx).hint(ids)
    roles_over(ctx, EntityKind.NGI).hint(ids)


def after_sites(ctx: RequestContext, rows: Iterable[Record]) -> None:
    rows = list(rows)
    prime(site(ctx), rows)
    ids = [row.id for row in rows]
    services_of_site(ctx).hint(ids)
    ngi(ctx).hint({row.ngi_id for row in rows})
    scopes_of(ctx, "site").hint(ids)
    properties_of(ctx, "site").hint(ids)
    roles_over(ctx, EntityKind.SITE).hint(ids)
    api_credentials_of_site(ctx).hint(ids)


def after_services(ctx: RequestContext, rows: Iterable[Record]) -> None:
    rows = list(rows)
    prime(service_(ctx), rows)
    ids = [row.id for row in rows]
    endpoints_of_service(ctx).hint(ids)
    site(ctx).hint({row.site_id for row in rows})
    service_type(ctx).hint({row.service_type_id for row in rows})
    scopes_of(ctx, "service").hint(ids)
    properties_of(ctx, "service").hint(ids)


def after_endpoints(ctx: RequestContext, rows: Iterable[Record]) -> None:
    rows = list(rows)
    prime(endpoint(ctx), rows)
    ids = [row.id for row in rows]
    properties_of(ctx, "endpoint").hint(ids)
    service_(ctx).hint({row.service_id for row in rows})


def after_groups(ctx: RequestContext, rows: Iterable[Record]) -> None:
    rows = list(rows)
    prime(service_group(ctx), rows)
    ids = [row.id for row in rows]
    services_of_group(ctx).hint(ids)
    scopes_of(ctx, "service_group").hint(ids)
    properties_of(ctx, "service_group").hint(ids)
