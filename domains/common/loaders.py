"""Per-request batch loaders.

GraphQL execution here is synchronous (see gateway/view.py), and a synchronous resolver
cannot wait for its siblings to queue their keys the way an async DataLoader does. So the
batching is driven by hints instead: whoever produces a list of parents (a page of sites,
the services of those sites) tells the child loaders which keys are coming. The first
`load()` then fetches every hinted key in one statement. The number of statements of a
query therefore depends on its shape, never on the page size.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy.orm import Session

from domains.common.identity import Principal
from domains.common.query import Record

if TYPE_CHECKING:  # the context holds a LoaderRegistry: imported for types only
    from domains.common.context import RequestContext

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class BatchLoader(Generic[K, V]):
    """Caches per request; loads every pending key at the first miss."""

    __slots__ = ("_cache", "_default", "_fetch", "_pending")

    def __init__(
        self, fetch: Callable[[Sequence[K]], Mapping[K, V]], default: Callable[[], V]
    ) -> None:
        self._fetch = fetch
        self._default = default
        self._cache: dict[K, V] = {}
        self._pending: set[K] = set()

    def hint(self, keys: Iterable[K]) -> None:
        # set operations, not a generator: thousands of keys a request (every row of a batch)
        self._pending.update(set(keys).difference(self._cache))

    def load(self, key: K) -> V:
        try:
            return self._cache[key]
        except KeyError:
            pass
        self._pending.add(key)
        self._flush()
        return self._cache[key]

    def load_many(self, keys: Sequence[K]) -> list[V]:
        self.hint(keys)
        if self._pending:
            self._flush()
        return [self._cache[k] for k in keys]

    def has(self, key: K) -> bool:
        return key in self._cache

    def known(self) -> list[K]:
        """The keys loaded or primed so far: another loader may hint them (a domain whose
        rows hang off this one's, e.g. the downtimes of every service this request saw)."""
        return list(self._cache)

    def prime(self, key: K, value: V) -> None:
        self._cache.setdefault(key, value)
        self._pending.discard(key)

    def prime_many(self, keys: Sequence[K], values: Iterable[V]) -> None:
        """`prime(key, value)` for each pair in order (the first value of a key stays): a
        batch's rows, without a method call per row."""
        cache = self._cache
        for key, value in zip(keys, values, strict=True):
            cache.setdefault(key, value)
        self._pending.difference_update(keys)

    def _flush(self) -> None:
        batch = sorted(self._pending, key=_sort_key)
        self._pending = set()
        found = self._fetch(batch)
        for key in batch:
            self._cache[key] = found[key] if key in found else self._default()


def _sort_key(key: Any) -> Any:
    # Deterministic statement text helps the database's plan cache; ints sort as ints.
    return key if isinstance(key, int) else repr(key)


class LoaderRegistry:
    """One instance per request; builds each loader on first use."""

    def __init__(self) -> None:
        self._loaders: dict[Hashable, BatchLoader[Any, Any]] = {}

    def get(self, name: Hashable, factory: Callable[[], BatchLoader[K, V]]) -> BatchLoader[K, V]:
        loader = self._loaders.get(name)
        if loader is None:
            loader = self._loaders[name] = factory()
        return loader

    def existing(self, name: Hashable) -> BatchLoader[Any, Any] | None:
        """The loader under `name` if one was made (a factory's first look: building its
        closures for nothing on every call cost some 5% of a large query)."""
        return self._loaders.get(name)


# --- the loaders every domain builds the same way -----------------------------------------
# A loader's registry key is (domain, name), e.g. ("topology", "site"): each domain names
# its own, so two domains never share one by accident.


def loader(
    ctx: RequestContext,
    key: tuple[str, str],
    fetch: Callable[[Sequence[int]], Mapping[int, V]],
    default: Callable[[], V],
) -> BatchLoader[int, V]:
    """The request's loader under `key`, made on first use."""
    return ctx.loaders.get(key, lambda: BatchLoader(fetch, default))


def _no_row() -> Record | None:
    return None


def one_by_id(
    ctx: RequestContext,
    key: tuple[str, str],
    read: Callable[[Session, Principal, Sequence[int]], Mapping[int, Record]],
    after: Callable[[RequestContext, Iterable[Record]], None] | None = None,
) -> BatchLoader[int, Record | None]:
    """Rows by id through a service read `read(session, principal, ids)`; `after` hears
    of every batch found (to prime itself and hint the next level)."""
    made = ctx.loaders.existing(key)
    if made is not None:
        return made

    def fetch(ids: Sequence[int]) -> Mapping[int, Record]:
        rows = read(ctx.session, ctx.principal, ids)
        if after is not None:
            after(ctx, rows.values())
        return rows

    return loader(ctx, key, fetch, _no_row)


def many_by_owner(
    ctx: RequestContext,
    key: tuple[str, str],
    read: Callable[[Sequence[int]], Mapping[int, list[T]]],
    after: Callable[[RequestContext, Iterable[T]], None] | None = None,
) -> BatchLoader[int, list[T]]:
    """The children of each owner id (an empty list for none); `after` hears of every
    child found."""
    made = ctx.loaders.existing(key)
    if made is not None:
        return made

    def fetch(ids: Sequence[int]) -> Mapping[int, list[T]]:
        groups = read(ids)
        if after is not None:
            after(ctx, (child for children in groups.values() for child in children))
        return groups

    return loader(ctx, key, fetch, list)


def prime(target: BatchLoader[int, Record | None], rows: Iterable[Record]) -> None:
    """Cache rows another read already fetched under their ids."""
    rows = rows if isinstance(rows, list) else list(rows)
    target.prime_many([row.id for row in rows], rows)
