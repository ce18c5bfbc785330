"""The answer cache and the state of the change feed that keeps it exact
(the Python twin of client/cache.go; the same rules, the same tests).

Exactness rests on three rules, all under one lock:
- an answer is served as fresh only while the feed is in step: the
  current stream has replayed what was missed and said so (its first
  progress event);
- a change drops the entries it may affect (an account's, or all);
- a load stores its answer only if the feed was in step when it began and
  still is, without a break between, and no change affecting its account
  was applied meanwhile (its ticket). An answer that may predate a change
  applied while it was in flight is returned to its caller but not kept;
  one that predates a change applied after it is stored is dropped by
  that change.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Dict, Hashable, Optional, Set, Tuple

from aiconfig.v1 import change_pb2

# A key is (account_id, kind, name); the kinds of answer:
MODEL_CONFIG = 1
EFFECTIVE_PROMPT = 2
GENERATION_CONTEXT = 3  # name: (function, author_profile_id, content_strategy_id)

Key = Tuple[str, int, Hashable]


class _Loads:
    """An account's loads in flight, and how often its entries were
    dropped while some were."""

    __slots__ = ("n", "gen")

    def __init__(self) -> None:
        self.n = 0
        self.gen = 0


class Ticket:
    """A load's claim to store its answer when it returns."""

    __slots__ = ("loads", "gen", "epoch", "session")

    def __init__(self, loads: _Loads, gen: int, epoch: int, session: int) -> None:
        self.loads, self.gen, self.epoch, self.session = loads, gen, epoch, session


class Cache:
    def __init__(self, max_entries: int) -> None:
        self._lock = threading.Lock()
        self._max = max_entries
        self._entries: "OrderedDict[Key, Any]" = OrderedDict()  # most recently used last
        self._by_account: Dict[str, Set[Key]] = {}
        self._loads: Dict[str, _Loads] = {}
        self._epoch = 0  # moves when everything is dropped
        self._pos = 0  # the last revision applied
        self._in_step = False
        self._session = 0  # moves whenever the feed leaves step
        self._left_step = 0.0  # time.monotonic() when it last did
        self.hits = self.misses = self.stale_served = self.invalidations = self.restarts = 0

    def get(self, key: Key) -> Optional[Any]:
        """A fresh answer: one held while the feed is in step."""
        with self._lock:
            if self._in_step:
                v = self._entries.get(key)
                if v is not None:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return v
            self.misses += 1
            return None

    def fallback(self, key: Key, max_stale: float) -> Optional[Any]:
        """What is held for key, fresh or not, if the feed left step less
        than max_stale seconds ago: the answer when the server cannot."""
        with self._lock:
            v = self._entries.get(key)
            if v is None or (not self._in_step and time.monotonic() - self._left_step >= max_stale):
                return None
            return v

    def served(self) -> None:
        with self._lock:
            self.stale_served += 1

    def begin(self, account: str) -> Optional[Ticket]:
        """Registers a load; None when its answer cannot be kept (the feed
        is not in step, the cache is off, or no account is named)."""
        with self._lock:
            # With no account named (an ACCOUNT token's own) no change event
            # would name the entry: it could not be kept exact.
            if not self._in_step or self._max <= 0 or not account:
                return None
            loads = self._loads.get(account)
            if loads is None:
                loads = self._loads[account] = _Loads()
            loads.n += 1
            return Ticket(loads, loads.gen, self._epoch, self._session)

    def finish(self, ticket: Optional[Ticket], key: Key, value: Any) -> None:
        """Ends the load and stores value (None: the load failed) if nothing
        that may have changed it happened since begin."""
        if ticket is None:
            return
        account = key[0]
        with self._lock:
            ticket.loads.n -= 1
            if ticket.loads.n == 0:
                self._loads.pop(account, None)
            if (value is None or not self._in_step or ticket.gen != ticket.loads.gen
                    or ticket.epoch != self._epoch or ticket.session != self._session):
                return
            self._entries[key] = value
            self._entries.move_to_end(key)
            self._by_account.setdefault(account, set()).add(key)
            while len(self._entries) > self._max:
                old, _ = self._entries.popitem(last=False)
                keys = self._by_account[old[0]]
                keys.discard(old)
                if not keys:
                    del self._by_account[old[0]]

    def _drop_account(self, account: str) -> None:
        for k in self._by_account.pop(account, ()):
            del self._entries[k]
        loads = self._loads.get(account)
        if loads is not None:
            loads.gen += 1

    def _drop_all(self) -> None:
        self._entries.clear()
        self._by_account.clear()
        self._epoch += 1

    def apply(self, ch: change_pb2.Change) -> bool:
        """Applies one event of the change feed; True when it brought the
        feed in step."""
        caught_up = False
        with self._lock:
            if ch.progress:
                caught_up = not self._in_step
                self._in_step = True  # everything up to the revision is applied
            elif ch.kind == change_pb2.CHANGE_KIND_TOKEN:
                pass  # tokens are checked by the server on every call
            elif ch.kind == change_pb2.CHANGE_KIND_ACCOUNT and ch.account_id:
                self.invalidations += 1
                self._drop_account(ch.account_id)
            else:
                # Global settings or prompts, the catalog, a write over several
                # accounts, or a kind newer than this client: anything may
                # have changed.
                self.invalidations += 1
                self._drop_all()
            self._pos = max(self._pos, ch.revision)
        return caught_up

    def leave(self) -> bool:
        """The stream ended; returns whether it was in step."""
        with self._lock:
            was = self._in_step
            if was:
                self._in_step, self._left_step = False, time.monotonic()
            self._session += 1
            return was

    def restart(self, oldest: int) -> None:
        """Drops everything: the changes after the feed's position are no
        longer kept, so the feed resumes from the oldest that is."""
        with self._lock:
            self.restarts += 1
            self._drop_all()
            self._pos = oldest

    def position(self) -> int:
        with self._lock:
            return self._pos

    def stats(self) -> Dict[str, Any]:
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "stale_served": self.stale_served,
                    "invalidations": self.invalidations, "restarts": self.restarts,
                    "entries": len(self._entries), "in_step": self._in_step, "revision": self._pos}
