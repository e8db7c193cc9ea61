"""Projects and their members (platform admins create projects, project admins add
members), and the caller's own profile."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.authz import Caller, authorize
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.time import utcnow
from domains.identity.service import user_by_subject
from domains.messaging import rules
from domains.messaging.errors import AlreadyExists, AmsNotFound
from domains.messaging.models import (
    MsgMember,
    MsgProject,
)
from domains.messaging.rows import (
    KeysetPage,
    MemberView,
    ProfileView,
    ProjectRoles,
    ProjectView,
)
from domains.messaging.rules import Action
from domains.messaging.service._common import (
    T_MEMBER,
    T_PROJECT,
    T_SUB,
    T_SUB_ACL,
    T_TOPIC,
    T_TOPIC_ACL,
    T_USER,
    keyset,
    project_for,
    project_row,
    project_view,
    record_audit,
)


def create_project(
    session: Session, principal: Principal, *, name: str, description: str = ""
) -> ProjectView:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    rules.check_name("Project", name)
    taken = session.execute(select(T_PROJECT.c.id).where(T_PROJECT.c.name == name)).first()
    if taken is not None:
        raise AlreadyExists("Project")
    now = utcnow()
    project = MsgProject(
        name=name,
        description=description,
        created_at=now,
        modified_at=now,
        created_by=principal.user_id,
    )
    session.add(project)
    session.flush()
    record_audit(
        session,
        principal,
        "msg_project.create",
        "msg_project",
        pk(project),
        name,
        {"description": [None, description]},
    )
    return project_view(session, project)


def get_project(session: Session, principal: Principal, *, project: str) -> ProjectView:
    proj = project_for(session, principal, project, Action.READ_PROJECT)
    return project_view(session, proj)


def list_projects(
    session: Session, principal: Principal, *, first: int | None = None, after: int | None = None
) -> KeysetPage[ProjectView]:
    """Every project for platform admins; the caller's own projects for anyone else. By
    id, after the id `after`, at most `first` (None: all)."""
    authorize(session, principal, Caller.SIGNED_IN)
    stmt = select(MsgProject)
    if not principal.is_superuser:
        mine = select(T_MEMBER.c.project_id).where(T_MEMBER.c.user_id == principal.user_id)
        stmt = stmt.where(T_PROJECT.c.id.in_(mine))
    rows, more, before, total = keyset(session, stmt, T_PROJECT.c.id, first, after)
    return KeysetPage([project_view(session, r[0]) for r in rows], more, before, total)


def user_profile(session: Session, principal: Principal) -> ProfileView:
    """The caller as AMS's `/users/profile` shows them: their projects and roles there."""
    authorize(session, principal, Caller.SIGNED_IN)
    rows = session.execute(
        select(T_PROJECT.c.name, T_MEMBER.c.roles)
        .join(T_MEMBER, T_MEMBER.c.project_id == T_PROJECT.c.id)
        .where(T_MEMBER.c.user_id == principal.user_id)
        .order_by(T_PROJECT.c.name)
    ).all()
    return ProfileView(
        subject=principal.subject or "",
        email=principal.email,
        projects=tuple(ProjectRoles(name, tuple(roles)) for name, roles in rows),
        service_roles=("service_admin",) if principal.is_superuser else (),
    )


def update_project(
    session: Session,
    principal: Principal,
    *,
    project: str,
    description: str | None = None,
    new_name: str | None = None,
) -> ProjectView:
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    row = project_row(session, project)
    before = {"name": row.name, "description": row.description}
    if new_name is not None and new_name != row.name:
        rules.check_name("Project", new_name)
        if session.execute(select(T_PROJECT.c.id).where(T_PROJECT.c.name == new_name)).first():
            raise AlreadyExists("Project")
        row.name = new_name
    if description is not None:
        row.description = description
    after = {"name": row.name, "description": row.description}
    if after != before:
        row.modified_at = utcnow()
        session.flush()
        record_audit(
            session,
            principal,
            "msg_project.update",
            "msg_project",
            pk(row),
            row.name,
            audit.diff(before, after),
        )
    return project_view(session, row)


def delete_project(session: Session, principal: Principal, *, project: str) -> None:
    """Deletes the project with its topics, messages, subscriptions, members and ACLs."""
    authorize(session, principal, Caller.PLATFORM_ADMIN)
    row = project_row(session, project)
    project_id = pk(row)
    session.delete(row)
    session.flush()
    record_audit(session, principal, "msg_project.delete", "msg_project", project_id, project)


def add_member(
    session: Session, principal: Principal, *, project: str, subject: str, roles: Sequence[str]
) -> MemberView:
    """Give a user (created by subject if new) these roles in the project (replacing any)."""
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    wanted = rules.check_roles(roles)
    user = user_by_subject(session, subject, create=True)
    member = session.get(MsgMember, (pk(proj), pk(user)))
    before = None if member is None else list(member.roles)
    if member is None:
        member = MsgMember(project_id=pk(proj), user_id=pk(user), roles=wanted)
        session.add(member)
    else:
        member.roles = wanted
    session.flush()
    if before != wanted:
        record_audit(
            session,
            principal,
            "msg_project.member",
            "msg_project",
            pk(proj),
            project,
            {f"roles of {subject}": [before, wanted]},
        )
    return MemberView(subject=subject, user_id=pk(user), roles=tuple(wanted))


def remove_member(session: Session, principal: Principal, *, project: str, subject: str) -> None:
    """Remove a user from the project and from its topics' and subscriptions' ACLs."""
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    user_id = session.execute(
        select(T_USER.c.id).where(T_USER.c.subject == subject)
    ).scalar_one_or_none()
    member = None if user_id is None else session.get(MsgMember, (pk(proj), user_id))
    if member is None or user_id is None:
        raise AmsNotFound("User doesn't exist")
    before = list(member.roles)
    session.delete(member)
    topics = select(T_TOPIC.c.id).where(T_TOPIC.c.project_id == pk(proj))
    subs = select(T_SUB.c.id).where(T_SUB.c.project_id == pk(proj))
    session.execute(
        delete(T_TOPIC_ACL).where(
            T_TOPIC_ACL.c.user_id == user_id, T_TOPIC_ACL.c.topic_id.in_(topics)
        )
    )
    session.execute(
        delete(T_SUB_ACL).where(
            T_SUB_ACL.c.user_id == user_id, T_SUB_ACL.c.subscription_id.in_(subs)
        )
    )
    session.flush()
    record_audit(
        session,
        principal,
        "msg_project.member",
        "msg_project",
        pk(proj),
        project,
        {f"roles of {subject}": [before, None]},
    )


def list_members(session: Session, principal: Principal, *, project: str) -> list[MemberView]:
    proj = project_for(session, principal, project, Action.MANAGE_PROJECT)
    rows = session.execute(
        select(T_USER.c.subject, T_MEMBER.c.user_id, T_MEMBER.c.roles)
        .join(T_USER, T_USER.c.id == T_MEMBER.c.user_id)
        .where(T_MEMBER.c.project_id == pk(proj))
        .order_by(T_USER.c.subject)
    ).all()
    return [MemberView(subject=r[0], user_id=r[1], roles=tuple(r[2])) for r in rows]
