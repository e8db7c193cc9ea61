"""Accounting's mutations: operators load rejected messages again and delete them, by id or
by filter (platform administrators); platform administrators and an NGI's operations
managers widen an accounting host's scope. Thin: the rules are in service/rejects.py and
service/senders.py."""

from __future__ import annotations

import strawberry

from domains.accounting.rules import Action
from domains.accounting.service import rejects, reportdata, senders
from domains.accounting.smime import CryptoConfig
from domains.accounting.types import (
    GRANT_TYPE,
    REJECT_TYPE,
    AccountingDiscipline,
    AccountingRejectFilter,
    AccountingRejectNode,
    AccountingSenderGrantNode,
    WlcgFederation,
    reject_nodes,
)
from domains.common.authz import requires
from domains.common.graphql import Deleted, Info, id_of_type, to_global_id


@strawberry.input
class ReloadAccountingRejectInput:
    id: strawberry.ID


@strawberry.type(
    description="What loading a reject again gave: its records loaded (and the reject "
    "deleted), or the reject refused again, with the field, rule and reason of now."
)
class ReloadAccountingRejectPayload:
    loaded: bool
    records: int = strawberry.field(description="Records loaded; 0 when refused again.")
    reject: AccountingRejectNode | None = strawberry.field(
        description="Refused again: the reject, kept with its new reason; null once loaded."
    )


@strawberry.input
class DeleteAccountingRejectsInput:
    ids: list[strawberry.ID] = strawberry.field(
        description="At most the server's maximum page size; all are deleted or none."
    )


@strawberry.type
class DeleteAccountingRejectsPayload:
    ids: list[strawberry.ID]


@strawberry.input
class DeleteAccountingRejectsMatchingInput:
    filter: AccountingRejectFilter = strawberry.field(
        description="As `accountingRejects` takes it; at least one criterion."
    )


@strawberry.type
class DeleteAccountingRejectsMatchingPayload:
    count: int = strawberry.field(description="How many rejects were deleted.")


@strawberry.input(description="Exactly one of `site` and `ngi`.")
class GrantAccountingSenderScopeInput:
    dn: str = strawberry.field(description="The host certificate's DN, OpenSSL slash form.")
    site: str | None = strawberry.field(default=None, description="A site's short name.")
    ngi: str | None = strawberry.field(default=None, description="An NGI's name: all its sites.")
    note: str = strawberry.field(default="", description="Why (at most 255 characters kept).")


@strawberry.type
class GrantAccountingSenderScopePayload:
    grant: AccountingSenderGrantNode


@strawberry.input
class RevokeAccountingSenderScopeInput:
    grant_id: strawberry.ID


@strawberry.input(description="A WLCG federation, created or replaced whole.")
class SetWlcgFederationInput:
    name: str = strawberry.field(description="REBUS's name, e.g. DE-KIT.")
    country: str = strawberry.field(description="A topology country's name or code.")
    tier: int = strawberry.field(description="1 or 2.")
    sites: list[str] = strawberry.field(
        description="All its sites' short names (registered; each in no other federation)."
    )


@strawberry.type
class SetWlcgFederationPayload:
    federation: WlcgFederation


@strawberry.input
class SetWlcgPledgeInput:
    federation: str
    year: int
    cpu_hs06: float = strawberry.field(description="Pledged CPU power, HEPSPEC06.")


@strawberry.type
class SetWlcgPledgePayload:
    federation: WlcgFederation


@strawberry.input(description="A scientific discipline, created or replaced whole.")
class SetAccountingDisciplineInput:
    name: str
    parent: str | None = strawberry.field(default=None, description="Null: at the top.")
    vos: list[str] = strawberry.field(
        default_factory=list,
        description="All the VOs counted for it; a VO listed moves here from another one.",
    )


@strawberry.type
class SetAccountingDisciplinePayload:
    discipline: AccountingDiscipline


@strawberry.type
class AccountingMutation:
    @strawberry.mutation(
        description="Load a rejected message again, the way it first came (a signed one is "
        "verified again): loaded, the reject is deleted; refused, it stays with the new "
        "reason, which the payload gives. Either way the change is kept (and audited)."
    )
    @requires(Action.MANAGE_REJECTS)
    def reload_accounting_reject(
        self, info: Info, input: ReloadAccountingRejectInput
    ) -> ReloadAccountingRejectPayload:
        ctx = info.context
        found = rejects.reload_reject(
            ctx.session,
            ctx.principal,
            reject_id=id_of_type(input.id, REJECT_TYPE, argument="input.id"),
            crypto=CryptoConfig.from_settings(ctx.settings),
            now=ctx.clock(),
        )
        return ReloadAccountingRejectPayload(
            loaded=found.reject is None,
            records=found.outcome.records,
            reject=None if found.reject is None else reject_nodes(info, [found.reject])[0],
        )

    @strawberry.mutation(description="Delete rejected messages (audited).")
    @requires(Action.MANAGE_REJECTS)
    def delete_accounting_rejects(
        self, info: Info, input: DeleteAccountingRejectsInput
    ) -> DeleteAccountingRejectsPayload:
        ctx = info.context
        gone = rejects.delete_rejects(
            ctx.session,
            ctx.principal,
            reject_ids=[id_of_type(i, REJECT_TYPE, argument="input.ids") for i in input.ids],
            limit=ctx.limits.max_page_size,
        )
        return DeleteAccountingRejectsPayload(
            ids=[strawberry.ID(to_global_id(REJECT_TYPE, i)) for i in gone]
        )

    @strawberry.mutation(
        description="Delete every rejected message the filter matches, all in one "
        "transaction, each audited; a filter without any criterion is refused."
    )
    @requires(Action.MANAGE_REJECTS)
    def delete_accounting_rejects_matching(
        self, info: Info, input: DeleteAccountingRejectsMatchingInput
    ) -> DeleteAccountingRejectsMatchingPayload:
        ctx = info.context
        count = rejects.delete_matching_rejects(
            ctx.session, ctx.principal, filter=input.filter.to_filter()
        )
        return DeleteAccountingRejectsMatchingPayload(count=count)

    @strawberry.mutation(
        description="Let an accounting host's DN send records of one more site, or of every "
        "site of an NGI (audited); granting it again returns the grant there is."
    )
    @requires(Action.GRANT_SENDER_SCOPE, on="the NGI of input.site, or input.ngi")
    def grant_accounting_sender_scope(
        self, info: Info, input: GrantAccountingSenderScopeInput
    ) -> GrantAccountingSenderScopePayload:
        ctx = info.context
        grant = senders.grant_sender_scope(
            ctx.session,
            ctx.principal,
            dn=input.dn,
            site=input.site,
            ngi=input.ngi,
            note=input.note,
        )
        return GrantAccountingSenderScopePayload(grant=AccountingSenderGrantNode.from_row(grant))

    @strawberry.mutation(description="Take back a wider scope granted to an accounting host.")
    @requires(Action.GRANT_SENDER_SCOPE, on="the NGI of the grant's site or NGI")
    def revoke_accounting_sender_scope(
        self, info: Info, input: RevokeAccountingSenderScopeInput
    ) -> Deleted:
        ctx = info.context
        grant_id = id_of_type(input.grant_id, GRANT_TYPE, argument="input.grantId")
        gone = senders.revoke_sender_scope(ctx.session, ctx.principal, grant_id=grant_id)
        return Deleted(id=strawberry.ID(to_global_id(GRANT_TYPE, gone)))

    @strawberry.mutation(
        description="Create or update a WLCG federation: country, tier and its sites "
        "(platform administrators; audited)."
    )
    @requires(Action.MANAGE_REPORT_DATA)
    def set_wlcg_federation(
        self, info: Info, input: SetWlcgFederationInput
    ) -> SetWlcgFederationPayload:
        ctx = info.context
        found = reportdata.set_federation(
            ctx.session,
            ctx.principal,
            name=input.name,
            country=input.country,
            tier=input.tier,
            sites=input.sites,
        )
        return SetWlcgFederationPayload(federation=WlcgFederation.from_row(found))

    @strawberry.mutation(
        description="Set a federation's CPU pledge for a year (platform administrators; audited)."
    )
    @requires(Action.MANAGE_REPORT_DATA)
    def set_wlcg_pledge(self, info: Info, input: SetWlcgPledgeInput) -> SetWlcgPledgePayload:
        ctx = info.context
        found = reportdata.set_pledge(
            ctx.session,
            ctx.principal,
            federation=input.federation,
            year=input.year,
            cpu_hs06=input.cpu_hs06,
        )
        return SetWlcgPledgePayload(federation=WlcgFederation.from_row(found))

    @strawberry.mutation(
        description="Create or update a scientific discipline: its parent and its VOs "
        "(platform administrators; audited)."
    )
    @requires(Action.MANAGE_REPORT_DATA)
    def set_accounting_discipline(
        self, info: Info, input: SetAccountingDisciplineInput
    ) -> SetAccountingDisciplinePayload:
        ctx = info.context
        found = reportdata.set_discipline(
            ctx.session, ctx.principal, name=input.name, parent=input.parent, vos=input.vos
        )
        return SetAccountingDisciplinePayload(discipline=AccountingDiscipline.from_row(found))
