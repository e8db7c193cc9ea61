"""Demo personas: ready-made users of the demo federation, one per kind of person who uses
opsgraph, each with an API token, so that a newcomer can act as them at once (GraphiQL's
`x-api-key` header, the AMS routes, a personal feed).

The secrets exist only in the personas file beside the database (mode 0600), written when
the demo data is seeded and reused by later starts; they are printed to the console, never
logged. A file that is gone or whose tokens no longer work is replaced by new tokens (the
old ones of the same name are revoked)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from domains.common.errors import Unauthenticated
from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.identity import service as identity
from domains.identity.models import EntityKind
from domains.identity.service import tokens
from domains.messaging import service as messaging
from domains.messaging.errors import UnknownProject
from domains.topology import ownership, roles
from domains.topology import service as topology
from domains.topology.models import CredentialKind

TOKEN_NAME = "demo persona"  # noqa: S105 (a name, not a secret)
VO_PROJECT = "biomed"  # the VO member's VO, as a messaging project until VOs have a domain


@dataclass(frozen=True, slots=True)
class Persona:
    key: str
    name: str
    email: str
    subject: str
    description: str


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "admin",
        "Ada Lindqvist",
        "ada.lindqvist@demo.opsgraph.example",
        "demo-admin@egi.eu",
        "platform administrator (GOCDB_ADMIN): may do everything",
    ),
    Persona(
        "ngi-manager",
        "Bruno Keller",
        "bruno.keller@demo.opsgraph.example",
        "demo-ngi-manager@egi.eu",
        "NGI Operations Manager of NGI_DE: manages NGI_DE and all of its sites",
    ),
    Persona(
        "site-admin",
        "Chiara Russo",
        "chiara.russo@demo.opsgraph.example",
        "demo-site-admin@egi.eu",
        "Site Administrator of INFN-T1: edits that site, declares its downtimes",
    ),
    Persona(
        "vo-member",
        "Dana Novak",
        "dana.novak@demo.opsgraph.example",
        "demo-vo-member@egi.eu",
        f"member of the {VO_PROJECT} VO: publishes and consumes in its messaging project, "
        "holds no topology role",
    ),
)


@dataclass(frozen=True, slots=True)
class IssuedPersona:
    key: str
    name: str
    email: str
    subject: str
    description: str
    token: str


def personas_file(database_url: str) -> Path:
    """Beside a SQLite database (`opsgraph.db` -> `opsgraph.db.personas.json`); for a
    server database, in the working directory."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(f"{url.database}.personas.json")
    return Path("opsgraph-demo-personas.json")


def _grant(session: Session, persona: Persona) -> None:
    if persona.key == "admin":
        identity.make_admin(session, PLATFORM, subject=persona.subject)
    elif persona.key == "ngi-manager":
        _grant_role(session, persona, "NGI Operations Manager", EntityKind.NGI, "NGI_DE")
    elif persona.key == "site-admin":
        _grant_role(session, persona, "Site Administrator", EntityKind.SITE, "INFN-T1")
        _register_credentials(session, persona, "INFN-T1")
    elif persona.key == "vo-member":
        try:
            messaging.get_project(session, PLATFORM, project=VO_PROJECT)
        except UnknownProject:
            messaging.create_project(
                session, PLATFORM, name=VO_PROJECT, description=f"the {VO_PROJECT} VO"
            )
        messaging.add_member(
            session,
            PLATFORM,
            project=VO_PROJECT,
            subject=persona.subject,
            roles=["publisher", "consumer"],
        )


def _grant_role(
    session: Session, persona: Persona, role: str, kind: EntityKind, entity: str
) -> None:
    entity_id = ownership.id_of(session, kind.value, entity)
    if entity_id is None:
        raise LookupError(f"the demo data has no {kind.value} {entity}")
    roles.grant_role_directly(
        session, PLATFORM, subject=persona.subject, role_type=role, kind=kind, entity_id=entity_id
    )


# The site administrator's API credentials at her site: her own subject, so that her API
# token reaches the PI's protection level 3 and the v5 write API; and a robot certificate's
# DN, as a site script would present it (read-only).
DEMO_ROBOT_DN = "/DC=org/DC=opsgraph-demo/O=INFN-T1/CN=robot/gocdb-sync.infn-t1.demo"


def _register_credentials(session: Session, persona: Persona, site: str) -> None:
    site_id = ownership.id_of(session, EntityKind.SITE.value, site)
    if site_id is None:
        raise LookupError(f"the demo data has no site {site}")
    owner = pk(identity.user_by_subject(session, persona.subject))
    held = {
        view.credential.identifier
        for view in topology.list_site_credentials(session, PLATFORM, site_id=site_id)
    }
    for identifier, kind, allow_write in (
        (persona.subject, CredentialKind.OIDC_SUBJECT, True),
        (DEMO_ROBOT_DN, CredentialKind.X509, False),
    ):
        if identifier not in held:
            topology.add_site_credential(
                session,
                PLATFORM,
                site_id=site_id,
                identifier=identifier,
                kind=kind,
                allow_write=allow_write,
                owner_id=owner,
            )


def _still_valid(session: Session, issued: Sequence[IssuedPersona]) -> bool:
    if sorted(p.key for p in issued) != sorted(p.key for p in PERSONAS):
        return False
    for persona in issued:
        try:
            user = tokens.user_for_api_token(session, persona.token)
        except Unauthenticated:
            return False
        if user.subject != persona.subject:
            return False
    return True


def read_personas(path: Path) -> list[IssuedPersona] | None:
    """The personas file's contents; None when it is missing or unreadable."""
    try:
        raw = json.loads(path.read_text())
        return [IssuedPersona(**entry) for entry in raw["personas"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, issued: Sequence[IssuedPersona]) -> None:
    """Only the owner may read it: it holds working credentials."""
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"personas": [asdict(p) for p in issued]}, out, indent=2)
        out.write("\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def ensure_personas(session: Session, path: Path) -> list[IssuedPersona]:
    """The personas with working tokens: those of the file when they still work, else new
    ones (users, roles and tokens are made or mended; old demo tokens revoked)."""
    existing = read_personas(path) if path.exists() else None
    if existing is not None and _still_valid(session, existing):
        return existing
    issued: list[IssuedPersona] = []
    for persona in PERSONAS:
        identity.register_user(
            session, PLATFORM, subject=persona.subject, name=persona.name, email=persona.email
        )
        _grant(session, persona)
        tokens.revoke_api_tokens_named(
            session, PLATFORM, user_subject=persona.subject, name=TOKEN_NAME
        )
        _, secret = tokens.create_api_token(
            session, PLATFORM, name=TOKEN_NAME, user_subject=persona.subject
        )
        issued.append(IssuedPersona(**asdict(persona), token=secret))
    _write(path, issued)
    return issued


def describe(issued: Sequence[IssuedPersona], path: Path) -> str:
    """What the console shows: who the personas are and their tokens."""
    lines = [f"demo personas (tokens in {path}; send one as the x-api-key header):"]
    for p in issued:
        lines.append(f"  {p.key:<12} {p.name} <{p.email}>: {p.description}")
        lines.append(f"  {'':<12} x-api-key: {p.token}")
    return "\n".join(lines)
