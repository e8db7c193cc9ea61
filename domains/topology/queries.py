"""The topology's Query fields and their filter inputs."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domains.common.errors import Invalid
from domains.common.graphql import Connection, Info, as_tuple, connection, from_global_id
from domains.common.scopes import ScopeMatch, ScopeSelection
from domains.topology import loaders, roles
from domains.topology import service as topology
from domains.topology.filters import (
    MAX_PROPERTY_DEPTH,
    MAX_PROPERTY_TERMS,
    PropertyExpr,
    ServiceFilter,
    ServiceGroupFilter,
    SiteFilter,
    check_tree_bounds,
)
from domains.topology.models import CertificationStatus, ProductionInfrastructure
from domains.topology.rules import TopologyRule
from domains.topology.types import (
    NgiNode,
    ProjectNode,
    RoleEntityKindEnum,
    RoleNode,
    RoleTypeNode,
    ScopeNode,
    ServiceGroupNode,
    ServiceNode,
    ServiceTypeNode,
    SiteNode,
)

# --- filters --------------------------------------------------------------------------


@strawberry.input(
    description=(
        "Condition on extension properties. Give exactly one of: `key` (presence), `key` and "
        "`value` (equality), `and`, `or`, `not`. At most "
        f"{MAX_PROPERTY_TERMS} conditions in all (each `key`, `and`, `or`, `not` counts one), "
        f"nested at most {MAX_PROPERTY_DEPTH} levels deep."
    )
)
class PropertyFilter:
    key: str | None = None
    value: str | None = None
    and_: list[PropertyFilter] | None = strawberry.field(default=None, name="and")
    or_: list[PropertyFilter] | None = strawberry.field(default=None, name="or")
    not_: PropertyFilter | None = strawberry.field(default=None, name="not")

    def children(self) -> list[PropertyFilter]:
        return [*(self.and_ or ()), *(self.or_ or ()), *(() if self.not_ is None else [self.not_])]

    def to_domain(self, field: str = "filter.properties") -> PropertyExpr:
        # bounded first (iteratively): the conversion below recurses once per level
        check_tree_bounds(self, PropertyFilter.children, field)
        return self._to_domain()

    def _to_domain(self) -> PropertyExpr:
        return PropertyExpr(
            key=self.key,
            value=self.value,
            all_of=None if self.and_ is None else tuple(f._to_domain() for f in self.and_),
            any_of=None if self.or_ is None else tuple(f._to_domain() for f in self.or_),
            negate=None if self.not_ is None else self.not_._to_domain(),
        )


def _scope_selection(scopes: list[str] | None, match: ScopeMatch | None) -> ScopeSelection:
    return ScopeSelection(names=as_tuple(scopes), match=match)


@strawberry.input(name="SiteFilter", description="Filter of `sites`; conditions combine with AND.")
class SiteFilterInput:
    short_name: list[str] | None = None
    ngi: list[str] | None = strawberry.field(default=None, description="NGI names.")
    country: list[str] | None = strawberry.field(
        default=None, description="ISO codes or country names."
    )
    certification_status: list[CertificationStatus] | None = None
    exclude_certification_status: list[CertificationStatus] | None = None
    production_infrastructure: list[ProductionInfrastructure] | None = None
    scopes: list[str] | None = strawberry.field(
        default=None,
        description="Scope tags. Absent: the instance's default scopes; empty list: any scope.",
    )
    scope_match: ScopeMatch | None = None
    properties: PropertyFilter | None = None

    def to_domain(self) -> SiteFilter:
        return SiteFilter(
            short_names=as_tuple(self.short_name),
            ngis=as_tuple(self.ngi),
            countries=as_tuple(self.country),
            certification_statuses=as_tuple(self.certification_status),
            exclude_certification_statuses=as_tuple(self.exclude_certification_status),
            production_infrastructures=as_tuple(self.production_infrastructure),
            scopes=_scope_selection(self.scopes, self.scope_match),
            properties=None if self.properties is None else self.properties.to_domain(),
        )


@strawberry.input(
    name="ServiceFilter", description="Filter of `services`; conditions combine with AND."
)
class ServiceFilterInput:
    host_name: list[str] | None = None
    site: list[str] | None = strawberry.field(default=None, description="Site short names.")
    ngi: list[str] | None = None
    country: list[str] | None = None
    service_type: list[str] | None = None
    monitored: bool | None = None
    production: bool | None = None
    beta: bool | None = None
    scopes: list[str] | None = strawberry.field(
        default=None,
        description="Scope tags. Absent: the instance's default scopes; empty list: any scope.",
    )
    scope_match: ScopeMatch | None = None
    properties: PropertyFilter | None = None

    def to_domain(self) -> ServiceFilter:
        return ServiceFilter(
            host_names=as_tuple(self.host_name),
            sites=as_tuple(self.site),
            ngis=as_tuple(self.ngi),
            countries=as_tuple(self.country),
            service_types=as_tuple(self.service_type),
            monitored=self.monitored,
            production=self.production,
            beta=self.beta,
            scopes=_scope_selection(self.scopes, self.scope_match),
            properties=None if self.properties is None else self.properties.to_domain(),
        )


@strawberry.input(name="ServiceGroupFilter", description="Filter of `serviceGroups`.")
class ServiceGroupFilterInput:
    name: list[str] | None = None
    scopes: list[str] | None = None
    scope_match: ScopeMatch | None = None
    properties: PropertyFilter | None = None

    def to_domain(self) -> ServiceGroupFilter:
        return ServiceGroupFilter(
            names=as_tuple(self.name),
            scopes=_scope_selection(self.scopes, self.scope_match),
            properties=None if self.properties is None else self.properties.to_domain(),
        )


@strawberry.input(name="RoleTypeFilter", description="Filter of `roleTypes`.")
class RoleTypeFilterInput:
    entity_kind: list[RoleEntityKindEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Kinds of entity the role types are requested over."
    )


# --- queries --------------------------------------------------------------------------

First = Annotated[int | None, strawberry.argument(description="Page size, capped by the server.")]
After = Annotated[str | None, strawberry.argument(description="Cursor of the last item seen.")]


@strawberry.type
class TopologyQuery:
    @strawberry.field(description="Projects, ordered by id.")
    def projects(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[ProjectNode]:
        ctx = info.context
        page = topology.list_projects(ctx.session, ctx.principal, page=ctx.page(first, after))
        loaders.after_projects(ctx, page.items)
        return connection(page, ProjectNode.from_row)

    @strawberry.field(description="Operations centres (NGIs), ordered by id.")
    def ngis(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        scopes: list[str] | None = None,
        scope_match: ScopeMatch | None = None,
    ) -> Connection[NgiNode]:
        ctx = info.context
        page = topology.list_ngis(
            ctx.session,
            ctx.principal,
            page=ctx.page(first, after),
            scopes=_scope_selection(scopes, scope_match),
            scope_defaults=ctx.scope_defaults,
        )
        loaders.after_ngis(ctx, page.items)
        return connection(page, NgiNode.from_row)

    @strawberry.field(description="One NGI by its unique name.")
    def ngi(self, info: Info, name: str) -> NgiNode | None:
        ctx = info.context
        row = topology.get_ngi_by_name(ctx.session, ctx.principal, name=name)
        if row is None:
            return None
        loaders.after_ngis(ctx, [row])
        return NgiNode.from_row(row)

    @strawberry.field(description="Sites (resource centres), ordered by id.")
    def sites(
        self,
        info: Info,
        filter: SiteFilterInput | None = None,
        first: First = None,
        after: After = None,
    ) -> Connection[SiteNode]:
        ctx = info.context
        page = topology.list_sites(
            ctx.session,
            ctx.principal,
            filter=(filter or SiteFilterInput()).to_domain(),
            page=ctx.page(first, after),
            scope_defaults=ctx.scope_defaults,
        )
        loaders.after_sites(ctx, page.items)
        return connection(page, SiteNode.from_row)

    @strawberry.field(description="One site by its unique short name (case-sensitive).")
    def site(self, info: Info, short_name: str) -> SiteNode | None:
        return site_by_short_name(info, short_name)

    @strawberry.field(description="Services, ordered by id.")
    def services(
        self,
        info: Info,
        filter: ServiceFilterInput | None = None,
        first: First = None,
        after: After = None,
    ) -> Connection[ServiceNode]:
        ctx = info.context
        page = topology.list_services(
            ctx.session,
            ctx.principal,
            filter=(filter or ServiceFilterInput()).to_domain(),
            page=ctx.page(first, after),
            scope_defaults=ctx.scope_defaults,
        )
        loaders.after_services(ctx, page.items)
        return connection(page, ServiceNode.from_row)

    @strawberry.field(description="One service by global id or by legacy primary key.")
    def service(
        self, info: Info, id: strawberry.ID | None = None, primary_key: str | None = None
    ) -> ServiceNode | None:
        ctx = info.context
        if (id is None) == (primary_key is None):
            raise Invalid("id", TopologyRule.SERVICE_ID_OR_PRIMARY_KEY)
        if id is not None:
            type_name, pk = from_global_id(id)
            row = loaders.service_(ctx).load(pk) if type_name == "Service" else None
        else:
            row = topology.get_by_primary_key(
                ctx.session, ctx.principal, kind="service", primary_key=primary_key or ""
            )
        return None if row is None else ServiceNode.from_row(row)

    @strawberry.field(description="Service types, ordered by id.")
    def service_types(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[ServiceTypeNode]:
        ctx = info.context
        page = topology.list_service_types(ctx.session, ctx.principal, page=ctx.page(first, after))
        return connection(page, ServiceTypeNode.from_row)

    @strawberry.field(description="Service groups, ordered by id.")
    def service_groups(
        self,
        info: Info,
        filter: ServiceGroupFilterInput | None = None,
        first: First = None,
        after: After = None,
    ) -> Connection[ServiceGroupNode]:
        ctx = info.context
        page = topology.list_service_groups(
            ctx.session,
            ctx.principal,
            filter=(filter or ServiceGroupFilterInput()).to_domain(),
            page=ctx.page(first, after),
            scope_defaults=ctx.scope_defaults,
        )
        loaders.after_groups(ctx, page.items)
        return connection(page, ServiceGroupNode.from_row)

    @strawberry.field(description="Scope tags, ordered by id.")
    def scopes(self, info: Info, first: First = None, after: After = None) -> Connection[ScopeNode]:
        ctx = info.context
        page = topology.list_scopes(ctx.session, ctx.principal, page=ctx.page(first, after))
        return connection(page, ScopeNode.from_row)

    @strawberry.field(description="Role requests the caller may grant or reject, ordered by id.")
    def pending_roles(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[RoleNode]:
        ctx = info.context
        page = roles.pending_roles(ctx.session, ctx.principal, page=ctx.page(first, after))
        return connection(page, RoleNode.from_row)

    @strawberry.field(
        description="The role types `requestRole` accepts and the kind of entity each is "
        "requested over, ordered by kind (project, NGI, site, service group), then name."
    )
    def role_types(
        self,
        info: Info,
        filter: RoleTypeFilterInput | None = None,
        first: First = None,
        after: After = None,
    ) -> Connection[RoleTypeNode]:
        ctx = info.context
        kinds = None if filter is None else as_tuple(filter.entity_kind)
        page = roles.role_types(kinds=kinds, page=ctx.page(first, after))
        return connection(page, RoleTypeNode.from_row)


def site_by_short_name(info: Info, short_name: str) -> SiteNode | None:
    """`site(shortName:)`, also the federation's Site entity by that key (gateway/federation.py)."""
    ctx = info.context
    row = topology.get_site_by_short_name(ctx.session, ctx.principal, short_name=short_name)
    if row is None:
        return None
    loaders.after_sites(ctx, [row])
    return SiteNode.from_row(row)
