"""Roles over the ownership tree: requested, granted, rejected and revoked; the views the
API shows of them; whose personal data a caller may read. The rows are identity's (`Role`);
what a role allows is topology's (rules.py), so the workflow lives here, above identity."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common import audit
from domains.common.authz import Caller, authorize, can
from domains.common.errors import Forbidden, Invalid, NotFound
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.pagination import PageRequest
from domains.common.query import RecordPage
from domains.common.time import utcnow
from domains.identity import service as identity
from domains.identity.models import EntityKind, Role, RoleStatus, User
from domains.topology import ownership
from domains.topology.models import Site
from domains.topology.ownership import EntityRef
from domains.topology.rules import ROLE_TYPES, Action, TopologyRule
from domains.topology.service import credentials


def _ref(role: Role) -> EntityRef:
    return EntityRef(role.entity_type.value, role.entity_id)


def _check_role_type(role_type: str, kind: EntityKind) -> None:
    if role_type not in ROLE_TYPES[kind]:
        allowed = ", ".join(sorted(ROLE_TYPES[kind]))
        raise Invalid(
            "roleType",
            TopologyRule.ROLE_TYPE_UNKNOWN,
            f"roleType: one of {allowed} for a {kind.value.replace('_', ' ')}",
        )


def _entity_or_not_found(session: Session, kind: EntityKind, entity_id: int) -> str:
    name = ownership.name_of(session, kind.value, entity_id)
    if name is None:
        raise NotFound(f"no {kind.value.replace('_', ' ')} with id {entity_id}")
    return name


def _audit_role(
    session: Session,
    principal: Principal,
    role: Role,
    action: str,
    before: RoleStatus | None,
    reason: str | None = None,
) -> None:
    user = session.get(User, role.user_id)
    audit.record(
        session,
        principal,
        action=f"role.{action}",
        entity_type=role.entity_type.value,
        entity_id=role.entity_id,
        entity_name=ownership.name_of(session, role.entity_type.value, role.entity_id) or "",
        changes={
            "role": [None, role.role_type],
            "user": [None, user.subject if user else None],
            "status": [None if before is None else before.value, role.status.value],
        },
        reason=reason,
    )


def request_role(
    session: Session, principal: Principal, *, role_type: str, kind: EntityKind, entity_id: int
) -> Role:
    """Ask for a role: it waits in PENDING until someone entitled grants or rejects it."""
    authorize(session, principal, Caller.REGISTERED_USER)
    if principal.user_id is None:  # the platform itself
        raise Forbidden("only registered users may request roles")
    _check_role_type(role_type, kind)
    _entity_or_not_found(session, kind, entity_id)
    role = session.execute(
        select(Role).where(
            Role.user_id == principal.user_id,  # type: ignore[arg-type]
            Role.role_type == role_type,  # type: ignore[arg-type]
            Role.entity_type == kind,  # type: ignore[arg-type]
            Role.entity_id == entity_id,  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    before = None if role is None else role.status
    if role is not None and role.status in (RoleStatus.GRANTED, RoleStatus.PENDING):
        raise Invalid(
            "roleType",
            TopologyRule.ROLE_ALREADY_HELD,
            f"roleType: you already hold or requested this role ({role.status.value})",
        )
    if role is None:
        role = Role(
            user_id=principal.user_id,
            role_type=role_type,
            entity_type=kind,
            entity_id=entity_id,
            status=RoleStatus.PENDING,
        )
        session.add(role)
    else:
        role.status = RoleStatus.PENDING
        role.requested_at = utcnow()
        role.decided_at = None
        role.decided_by = None
    session.flush()
    _audit_role(session, principal, role, "request", before)
    return role


def _role(session: Session, role_id: int) -> Role:
    role = session.get(Role, role_id)
    if role is None:
        raise NotFound(f"no role with id {role_id}")
    return role


def _decide(
    session: Session,
    principal: Principal,
    role_id: int,
    action: Action,
    new_status: RoleStatus,
    verb: str,
    *,
    from_status: RoleStatus,
    before_change: Callable[[Session, Role], None] | None = None,
) -> Role:
    authorize(session, principal, Caller.SIGNED_IN)
    role = _role(session, role_id)
    authorize(session, principal, action, _ref(role))
    if role.status is not from_status:
        raise Invalid(
            "roleId",
            TopologyRule.ROLE_NOT_DECIDABLE,
            f"roleId: only a {from_status.value} role can be {verb}; "
            f"this one is {role.status.value}",
        )
    if before_change is not None:
        before_change(session, role)
    before = role.status
    role.status = new_status
    role.decided_at = utcnow()
    role.decided_by = principal.subject
    session.flush()
    _audit_role(session, principal, role, verb, before)
    return role


def grant_role(session: Session, principal: Principal, *, role_id: int) -> Role:
    return _decide(
        session,
        principal,
        role_id,
        Action.GRANT_ROLE,
        RoleStatus.GRANTED,
        "granted",
        from_status=RoleStatus.PENDING,
    )


def reject_role(session: Session, principal: Principal, *, role_id: int) -> Role:
    return _decide(
        session,
        principal,
        role_id,
        Action.REJECT_ROLE,
        RoleStatus.REJECTED,
        "rejected",
        from_status=RoleStatus.PENDING,
    )


def _gives_up_own(principal: Principal, role: Role) -> bool:
    return role.user_id == principal.user_id and role.status is RoleStatus.GRANTED


def may_revoke(session: Session, principal: Principal, action: Action, role_id: int) -> bool:
    """Whether revoke_role would let the caller revoke this role (their own granted role,
    or `action`, REVOKE_ROLE, on its entity): the question a role's `viewerCanRevoke`
    asks, decided as revoke_role decides it."""
    role = session.get(Role, role_id)
    if role is None or principal.is_anonymous:
        return False
    return _gives_up_own(principal, role) or can(session, principal, action, _ref(role))


def _refuse_orphaning(session: Session, role: Role) -> None:
    """GOCDB's checkOrphanAPIAuth: a revocation that would leave site API credentials owned
    by someone without a role over their site or its NGI is refused."""
    blocking = credentials.orphaned_credential_sites(session, role)
    if blocking:
        sites = ", ".join(f"{name}({count})" for name, count in sorted(blocking.items()))
        raise Invalid(
            "roleId",
            TopologyRule.ROLE_ORPHANS_API_CREDENTIALS,
            "roleId: revoking this role would leave site API credentials owned by a user "
            "without a role over their site; delete them, or have another site editor edit "
            f"or renew them (which makes that editor their owner), first. Sites: {sites}",
        )


def revoke_role(session: Session, principal: Principal, *, role_id: int) -> Role:
    """Users may give up their own roles; revoking someone else's needs REVOKE_ROLE. Either
    is refused while it would orphan site API credentials (GOCDB's rule)."""
    authorize(session, principal, Caller.SIGNED_IN)
    role = _role(session, role_id)
    if _gives_up_own(principal, role):
        _refuse_orphaning(session, role)
        before = role.status
        role.status = RoleStatus.REVOKED
        role.decided_at = utcnow()
        role.decided_by = principal.subject
        session.flush()
        _audit_role(session, principal, role, "revoked", before)
        return role
    return _decide(
        session,
        principal,
        role_id,
        Action.REVOKE_ROLE,
        RoleStatus.REVOKED,
        "revoked",
        from_status=RoleStatus.GRANTED,
        before_change=_refuse_orphaning,
    )


def grant_role_directly(
    session: Session,
    principal: Principal,
    *,
    subject: str,
    role_type: str,
    kind: EntityKind,
    entity_id: int,
) -> Role:
    """Bootstrap: give a user a role without a request (platform and admins only)."""
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    _check_role_type(role_type, kind)
    _entity_or_not_found(session, kind, entity_id)
    user = identity.user_by_subject(session, subject, create=True)
    role = session.execute(
        select(Role).where(
            Role.user_id == pk(user),  # type: ignore[arg-type]
            Role.role_type == role_type,  # type: ignore[arg-type]
            Role.entity_type == kind,  # type: ignore[arg-type]
            Role.entity_id == entity_id,  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    before = None if role is None else role.status
    if role is None:
        role = Role(
            user_id=pk(user),
            role_type=role_type,
            entity_type=kind,
            entity_id=entity_id,
            status=RoleStatus.GRANTED,
        )
        session.add(role)
    elif role.status is RoleStatus.GRANTED:
        return role
    role.status = RoleStatus.GRANTED
    role.decided_at = utcnow()
    role.decided_by = principal.subject
    session.flush()
    _audit_role(session, principal, role, "granted", before)
    return role


@dataclass(frozen=True, slots=True)
class RoleView:
    id: int
    role_type: str
    entity_type: str
    entity_id: int
    entity_name: str
    status: str
    user_subject: str | None


def roles_of_user(session: Session, principal: Principal, *, user_id: int) -> list[RoleView]:
    """A user's roles of every status; a user reads their own, admins anyone's."""
    authorize(session, principal, Caller.SIGNED_IN)
    if principal.user_id != user_id and not principal.is_superuser:
        raise Forbidden("you may only list your own roles")
    roles = session.execute(
        select(Role).where(Role.user_id == user_id).order_by(Role.id)  # type: ignore[arg-type]
    ).scalars()
    return [_view(session, role) for role in roles]


def pending_roles(session: Session, principal: Principal, *, page: PageRequest) -> RecordPage:
    """Role requests the principal may decide on, one page of views, ordered by id. Which
    ones the principal may decide is the policy's answer, not a query: the requests are
    filtered here and the page cut from what is left (pending requests are few)."""
    authorize(session, principal, Caller.SIGNED_IN)
    stmt = select(Role).where(Role.status == RoleStatus.PENDING).order_by(Role.id)  # type: ignore[arg-type]
    if page.after is not None:
        stmt = stmt.where(Role.id > page.after)  # type: ignore[arg-type,operator]
    decidable = [
        role
        for role in session.execute(stmt).scalars()
        if can(session, principal, Action.GRANT_ROLE, _ref(role))
    ]
    views: list[Any] = [_view(session, role) for role in decidable[: page.first]]

    def count() -> int:
        everything = session.execute(
            select(Role).where(Role.status == RoleStatus.PENDING)  # type: ignore[arg-type]
        ).scalars()
        return sum(
            1 for role in everything if can(session, principal, Action.GRANT_ROLE, _ref(role))
        )

    return RecordPage(
        items=views,
        has_next_page=len(decidable) > page.first,
        has_previous_page=page.after is not None,
        _count=count,
    )


def visible_roles(
    session: Session, principal: Principal, *, role_ids: Sequence[int]
) -> list[RoleView]:
    """Roles by id that the principal may see: their own, or ones they may decide on."""
    out: list[RoleView] = []
    for role_id in role_ids:
        role = session.get(Role, role_id)
        if role is None:
            continue
        if role.user_id == principal.user_id or can(
            session, principal, Action.GRANT_ROLE, _ref(role)
        ):
            out.append(_view(session, role))
    return out


def view_of(session: Session, role: Role) -> RoleView:
    return _view(session, role)


def _view(session: Session, role: Role) -> RoleView:
    user = session.get(User, role.user_id)
    return RoleView(
        id=pk(role),
        role_type=role.role_type,
        entity_type=role.entity_type.value,
        entity_id=role.entity_id,
        entity_name=ownership.name_of(session, role.entity_type.value, role.entity_id) or "",
        status=role.status.value,
        user_subject=user.subject if user else None,
    )


@dataclass(frozen=True, slots=True)
class RoleTypeView:
    """One row of the role types' table (rules.ROLE_TYPES): a role type and the kind of
    entity it is requested over; `id` is its place in the table's order, the cursor's key."""

    id: int
    name: str
    entity_kind: EntityKind


def _role_type_table() -> list[RoleTypeView]:
    """ROLE_TYPES in a stable order: by kind (EntityKind's order), then by name."""
    pairs = [(kind, name) for kind in EntityKind for name in sorted(ROLE_TYPES[kind])]
    return [RoleTypeView(i, name, kind) for i, (kind, name) in enumerate(pairs, start=1)]


def role_types(*, kinds: Sequence[EntityKind] | None, page: PageRequest) -> RecordPage:
    """The role types `request_role` accepts, over which kind of entity each is requested,
    from the table it checks (rules.ROLE_TYPES). Public reference data (GOCDB's role types
    are in its documentation): no authorization. `kinds` None: every kind."""
    table = [v for v in _role_type_table() if kinds is None or v.entity_kind in kinds]
    after = [v for v in table if page.after is None or v.id > page.after]
    items: list[Any] = after[: page.first]
    return RecordPage(
        items=items,
        has_next_page=len(after) > page.first,
        has_previous_page=page.after is not None,
        _count=lambda: len(table),
    )


def entity_kind(value: str) -> EntityKind:
    try:
        return EntityKind(value)
    except ValueError as exc:
        kinds = ", ".join(k.value for k in EntityKind)
        raise Invalid(
            "entityType", TopologyRule.ROLE_ENTITY_TYPE_UNKNOWN, f"entityType: one of {kinds}"
        ) from exc


def projects_with_roles(session: Session, principal: Principal) -> frozenset[int]:
    """The projects in which the principal holds any granted role (directly on the project,
    or on one of its NGIs or their sites): the scope of READ_PERSONAL_DATA."""
    if principal.user_id is None:
        return frozenset()
    projects_of_ngi = ownership.projects_of_ngis(session)
    found: set[int] = set()
    for role in identity.granted_roles(session, principal.user_id):
        for kind, entity_id in ownership.chain(session, role.entity_type.value, role.entity_id):
            if kind == "project":
                found.add(entity_id)
            elif kind == "ngi":
                found |= projects_of_ngi.get(entity_id, frozenset())
    return frozenset(found)


def personal_data_ngis(
    session: Session, principal: Principal, *, restricted: bool = True
) -> frozenset[int] | None:
    """NGIs whose personal data (contact e-mails, phones) the principal may read, or None
    for all of them. GOCDB's READ_PERSONAL_DATA: a granted role anywhere in the same
    project. With `restricted` off, every authenticated caller reads everything."""
    if principal.is_superuser or (not restricted and not principal.is_anonymous):
        return None
    if principal.user_id is None:
        return frozenset()
    projects = projects_with_roles(session, principal)
    return frozenset(
        ngi
        for ngi, in_projects in ownership.projects_of_ngis(session).items()
        if in_projects & projects
    )


def holds_any_role(session: Session, principal: Principal) -> bool:
    return principal.is_superuser or (
        principal.user_id is not None and bool(identity.granted_roles(session, principal.user_id))
    )


class PersonalData:
    """Which contact data (e-mails, phones) one caller may read, decided here, in the service
    layer, once per request; the GraphQL types only pass each value through it. GOCDB's
    READ_PERSONAL_DATA: an NGI's, a site's or a service's contacts show to callers with a
    granted role in the same project; a service group, which belongs to no NGI, shows its
    contact to any holder of a role. Each question is asked of the database when first
    needed."""

    def __init__(self, session: Session, principal: Principal, *, restricted: bool) -> None:
        self._session = session
        self._principal = principal
        self._restricted = restricted
        self._ngis: frozenset[int] | None | bool = False  # False: not asked yet
        self._role_holder: bool | None = None

    def _visible_ngis(self) -> frozenset[int] | None:
        if self._ngis is False:
            self._ngis = personal_data_ngis(
                self._session, self._principal, restricted=self._restricted
            )
        assert not isinstance(self._ngis, bool)
        return self._ngis

    def may_read_ngi(self, ngi_id: int | None) -> bool:
        """Whether the caller may read the personal data of something in NGI `ngi_id`: its
        contacts, and who holds roles over it."""
        visible = self._visible_ngis()
        return visible is None or (ngi_id is not None and ngi_id in visible)

    def of_ngi(self, value: str | None, ngi_id: int | None) -> str | None:
        """`value`, a contact of something in NGI `ngi_id`, or None if the caller may not
        read it."""
        if value is None:
            return None
        return value if self.may_read_ngi(ngi_id) else None

    def of_service_group(self, value: str | None) -> str | None:
        if value is None:
            return value
        return value if self.may_read_unowned() else None

    def may_read_unowned(self) -> bool:
        """Whether the caller may read the personal data of what belongs to no NGI (a
        service group, a project's role holders): any holder of a role may."""
        if self._visible_ngis() is None:
            return True
        if self._role_holder is None:
            self._role_holder = holds_any_role(self._session, self._principal)
        return self._role_holder


@dataclass(frozen=True, slots=True)
class HeldRole:
    """A granted role over a project, NGI, site or service group, as an entity's page shows
    it: the role type, its holder as GOCDB shows them (name and subject), granted when."""

    id: int
    role_type: str
    entity_id: int
    user_name: str | None
    user_subject: str
    granted_at: datetime | None


def granted_roles_over(
    session: Session, personal: PersonalData, kind: EntityKind, entity_ids: Sequence[int]
) -> dict[int, list[HeldRole]]:
    """The granted roles over each site or NGI in `entity_ids` (ordered by id), in one
    statement. Who holds a role is personal data (GOCDB shows role holders where it shows
    contacts): a caller whom `personal` does not let read an entity's contacts gets no
    roles for it, so anonymous callers see none."""
    if kind not in (EntityKind.SITE, EntityKind.NGI):
        raise ValueError(f"roles over a {kind.value} are not listed")
    if not entity_ids:
        return {}
    stmt = (
        select(Role, User.name, User.subject)  # type: ignore[call-overload]
        .join(User, User.id == Role.user_id)
        .where(
            Role.entity_type == kind,
            col(Role.entity_id).in_(entity_ids),
            Role.status == RoleStatus.GRANTED,
        )
        .order_by(Role.id)
    )
    if kind is EntityKind.SITE:
        stmt = stmt.add_columns(Site.ngi_id).join(Site, Site.id == Role.entity_id)
    out: dict[int, list[HeldRole]] = {}
    for row in session.execute(stmt):
        role = row[0]
        ngi_id = row[3] if kind is EntityKind.SITE else role.entity_id
        if not personal.may_read_ngi(ngi_id):
            continue
        out.setdefault(role.entity_id, []).append(
            HeldRole(
                id=pk(role),
                role_type=role.role_type,
                entity_id=role.entity_id,
                user_name=row[1],
                user_subject=row[2],
                granted_at=role.decided_at,
            )
        )
    return out
