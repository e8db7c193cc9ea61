"""Persisted operations (issue 16): automatic persisted queries and trusted documents.

A request may name its document by hash instead of sending it: `extensions.persistedQuery`
= `{"version": 1, "sha256Hash": "<hex>"}`, over GET or POST (Apollo's protocol, which urql's
and Apollo's clients speak). The hash is looked up in

- the manifest of trusted documents: every operation the web app can send, written by its
  build (graphql-codegen's persisted documents) beside the app as `persisted-documents.json`,
  or the file OPSGRAPH_TRUSTED_DOCUMENTS_MANIFEST names;
- then the documents callers registered: a request carrying both the document and its hash
  registers it (after checking that the hash is the document's SHA-256), in process (a
  bounded LRU) or in Redis when OPSGRAPH_CACHE_URL is set, so that every replica knows it.

A hash found nowhere answers the error clients wait for, `PersistedQueryNotFound`
(`extensions.code` PERSISTED_QUERY_NOT_FOUND), and they send the document again.

With OPSGRAPH_TRUSTED_DOCUMENTS=only, the server runs the manifest's documents and nothing
else: an ad-hoc document (sent as text, or registered by hash) is refused
(TRUSTED_DOCUMENT_REQUIRED) unless the caller is a platform administrator, or a federation
router (a subject of OPSGRAPH_FEDERATION_GATEWAY_SUBJECTS) asking for `_entities` or
`_service` only: a router writes its entity fetches itself, so no manifest can hold them.
The check is the same over HTTP and over the WebSocket's subscribe messages (gateway/ws.py)."""

from __future__ import annotations

import enum
import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse

from domains.common.errors import CommonRule, DomainError, Invalid
from domains.common.identity import Principal
from gateway.config import trusted_manifest
from gateway.web import STATIC

if TYPE_CHECKING:
    from gateway.config import Settings

EXTENSION = "persistedQuery"
HASH_FIELD = "extensions.persistedQuery.sha256Hash"
MANIFEST_NAME = "persisted-documents.json"
_HEX = re.compile(r"[0-9a-f]{64}")


class TrustedMode(enum.Enum):
    OFF = "off"  # any document; hashes from the manifest or registered by callers
    ONLY = "only"  # the manifest's documents only (administrators and routers excepted)


class PersistedQueryNotFound(DomainError):
    """The hash names no document this server knows: the client sends the document."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        # the message is the protocol's: clients compare it, not only the code
        super().__init__("PersistedQueryNotFound")


class Store(Protocol):
    """Where documents registered by callers are kept, by hash."""

    async def get(self, digest: str) -> str | None: ...

    async def put(self, digest: str, document: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryStore:
    """This process's registered documents: the `capacity` most recently used."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._documents: OrderedDict[str, str] = OrderedDict()

    async def get(self, digest: str) -> str | None:
        document = self._documents.get(digest)
        if document is not None:
            self._documents.move_to_end(digest)
        return document

    async def put(self, digest: str, document: str) -> None:
        self._documents[digest] = document
        self._documents.move_to_end(digest)
        while len(self._documents) > self.capacity:
            self._documents.popitem(last=False)

    async def aclose(self) -> None:
        self._documents.clear()


class RedisStore:
    """Registered documents shared by every replica (OPSGRAPH_CACHE_URL). They expire a week
    after their last registration; a client whose hash expired sends the document again."""

    PREFIX = "opsgraph:apq:"
    TTL_SECONDS = 7 * 24 * 3600

    def __init__(self, url: str) -> None:
        import redis.asyncio

        self._redis = redis.asyncio.Redis.from_url(url)

    async def get(self, digest: str) -> str | None:
        found: bytes | str | None = await self._redis.get(self.PREFIX + digest)
        return found.decode() if isinstance(found, bytes) else found

    async def put(self, digest: str, document: str) -> None:
        await self._redis.set(self.PREFIX + digest, document.encode(), ex=self.TTL_SECONDS)

    async def aclose(self) -> None:
        await self._redis.aclose()


def digest_of(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


@dataclass(frozen=True)
class Resolved:
    """The document a request runs, and whether it is one of the manifest's."""

    query: str | None
    trusted: bool


class PersistedDocuments:
    def __init__(
        self,
        manifest: Mapping[str, str],
        store: Store | None,
        mode: TrustedMode,
        gateway_subjects: frozenset[str] = frozenset(),
    ) -> None:
        self.manifest = dict(manifest)
        self.store = store  # None: callers cannot register documents
        self.mode = mode
        # routers' subjects, whose `_entities`/`_service` documents run anyway
        self.gateway_subjects = gateway_subjects
        self._trusted_texts = frozenset(self.manifest.values())
        # told "hit", "miss" or "registered" for each lookup by hash (gateway/metrics.py)
        self.observe: Callable[[str], None] = _unobserved

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> Resolved:
        """The request's document: its text, or the one its hash names. Raises Invalid for a
        malformed extension or a hash that is not the document's, PersistedQueryNotFound for
        an unknown hash."""
        persisted = (extensions or {}).get(EXTENSION)
        if persisted is None:
            return Resolved(query, query is not None and query in self._trusted_texts)
        digest = _checked_hash(persisted)
        if query == "":  # graphql-ws requires a string: "" beside a hash means none
            query = None
        if query is not None:
            if digest_of(query) != digest:
                raise Invalid(
                    HASH_FIELD,
                    CommonRule.PERSISTED_QUERY_HASH_MISMATCH,
                    f"{HASH_FIELD}: {digest} is not the SHA-256 of the document sent with it",
                )
            trusted = digest in self.manifest
            if not trusted and self.store is not None and self.mode is TrustedMode.OFF:
                await self.store.put(digest, query)
                self.observe("registered")
            return Resolved(query, trusted)
        if digest in self.manifest:
            self.observe("hit")
            return Resolved(self.manifest[digest], True)
        found = None if self.store is None else await self.store.get(digest)
        if found is None:
            self.observe("miss")
            raise PersistedQueryNotFound()
        self.observe("hit")
        return Resolved(found, False)

    async def aclose(self) -> None:
        if self.store is not None:
            await self.store.aclose()

    def allows(self, resolved: Resolved, principal: Principal) -> bool:
        """Whether `check_allowed` lets the principal run the document."""
        if self.mode is not TrustedMode.ONLY or resolved.trusted or principal.is_superuser:
            return True
        return principal.subject in self.gateway_subjects and federation_only(resolved.query)

    def check_allowed(self, resolved: Resolved, principal: Principal) -> None:
        """OPSGRAPH_TRUSTED_DOCUMENTS=only: an ad-hoc document runs for administrators only,
        and a federation router's entity fetches for the router."""
        if not self.allows(resolved, principal):
            raise Invalid(
                "query",
                CommonRule.TRUSTED_DOCUMENT_REQUIRED,
                "query: this server runs only the operations of its trusted-documents "
                "manifest (OPSGRAPH_TRUSTED_DOCUMENTS=only); send the hash of one of them "
                "in extensions.persistedQuery",
            )


FEDERATION_FIELDS = frozenset({"_entities", "_service", "__typename"})


def federation_only(document: str | None) -> bool:
    """Whether the document is queries whose root fields are `_entities`, `_service` (and
    `__typename`) only, as a router's entity fetches and its composition are; fragments at
    the root are not followed, so a document that spreads one there is not."""
    try:
        parsed = parse(document or "", no_location=True)
    except GraphQLError:
        return False  # refused as ad-hoc: its syntax error is not the point here
    return all(
        isinstance(definition, OperationDefinitionNode)
        and definition.operation is OperationType.QUERY
        and all(
            isinstance(selection, FieldNode) and selection.name.value in FEDERATION_FIELDS
            for selection in definition.selection_set.selections
        )
        for definition in parsed.definitions
    )


def _unobserved(_result: str) -> None:
    """No metrics: lookups are not counted."""


def _checked_hash(persisted: object) -> str:
    if not isinstance(persisted, Mapping):
        raise Invalid(
            "extensions.persistedQuery",
            CommonRule.PERSISTED_QUERY_MALFORMED,
            'extensions.persistedQuery: an object {"version": 1, "sha256Hash": "<64 hex>"}',
        )
    if persisted.get("version") != 1:
        raise Invalid(
            "extensions.persistedQuery.version",
            CommonRule.PERSISTED_QUERY_MALFORMED,
            "extensions.persistedQuery.version: only version 1 is known",
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _HEX.fullmatch(digest):
        raise Invalid(
            HASH_FIELD,
            CommonRule.PERSISTED_QUERY_MALFORMED,
            f"{HASH_FIELD}: 64 lowercase hexadecimal digits (a SHA-256)",
        )
    return digest


def from_settings(settings: Settings) -> PersistedDocuments:
    """The server's persisted documents. The manifest is OPSGRAPH_TRUSTED_DOCUMENTS_MANIFEST,
    else the one beside the built web app; without one, only registered documents are known,
    and OPSGRAPH_TRUSTED_DOCUMENTS=only refuses to start."""
    mode = TrustedMode(settings.trusted_documents)
    app = Path(settings.app_dir) if settings.app_dir else STATIC / "app"
    manifest = trusted_manifest(settings, app / MANIFEST_NAME)
    store: Store | None = None
    if settings.cache_url:
        store = RedisStore(settings.cache_url)
    elif settings.persisted_queries_max:
        store = MemoryStore(settings.persisted_queries_max)
    return PersistedDocuments(
        manifest, store, mode, frozenset(settings.federation_gateway_subjects)
    )
