"""The aiconfig client: model configurations, prompts and generation
contexts for generation workers, from memory.

    client = aiconfig.Client("aiconfig:50051", token=os.environ["AICONFIG_TOKEN"])
    cfg = client.model_config(account_id, "generate_content")
    job = client.generation_context(account_id, "generate_content")  # .model_config, .prompt, .author_profile, ...

Answers are kept in a bounded in-process cache, filled on a miss and
invalidated by one ChangeService.WatchChanges stream (a daemon thread) per
client and process, so a cached read makes no call. While the server or the
feed is down, cached answers are served for up to max_stale seconds after
the feed was last in step. Every call has a deadline (timeout); calls that
found the server unavailable are retried with jittered backoff. Failures
raise AiconfigError subclasses with code, reason, metadata and
field_violations.

Fork safety (Celery prefork, multiprocessing): nothing is opened until the
first call. Before a fork, calls of every client are held at a gate, the
channels are closed (in-flight calls end) and the feed threads stopped, so
no thread of ours is inside gRPC when the process is copied; a child
builds its own channel, feed thread and cache on its first call and never
touches what it inherited; the parent reopens its channel on its next call
and its feed resumes where it stopped. aiconfig also selects gRPC's poll
engine (see aiconfig/__init__.py): the default epoll1 engine's epoll set
would be shared by the parent and every child.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
import weakref
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple, Union

import grpc

from aiconfig import _cache
from aiconfig.answers import EffectivePrompt, GenerationContext, ModelConfig
from aiconfig.answers import Account
from aiconfig.errors import AiconfigError, ConfigurationError, FieldViolation, error, from_rpc_error
from aiconfig.reasons import Reason
from aiconfig.render import render
from aiconfig.v1 import (change_pb2, change_pb2_grpc, config_pb2, config_pb2_grpc, prompt_pb2,
                         prompt_pb2_grpc)
from aiconfig.v1 import account_pb2, account_pb2_grpc, common_pb2

log = logging.getLogger("aiconfig")

# Retries of a call the server could not take: 3 attempts, 100 ms then 200 ms
# apart (jittered; longer than the channel's first reconnect backoff, so a
# retry finds a new connection), within the call's deadline.
_MAX_ATTEMPTS = 3
_RETRY_DELAY = 0.1
# With the server unreachable, held answers are served for this long
# without trying it again (a call to a host that does not answer would
# wait for the whole deadline).
_PROBE_INTERVAL = 1.0
# The first read in a process waits at most this long (and half its
# timeout) for the change feed to be in step, so that its answer is kept.
_FEED_WAIT = 1.0

_CHANNEL_OPTIONS = (
    # The feed stream lives for hours: notice a dead peer (the server allows
    # a ping every 10 s).
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # Back soon after a server restart. (grpc.min_reconnect_backoff_ms,
    # which gRPC also takes as a connection attempt's timeout, is set per
    # client: see Client.__init__.)
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 5_000),
    # A channel of its own connections: a forked child's new channel must
    # not pick up a connection of the parent from gRPC's global pool.
    ("grpc.use_local_subchannel_pool", 1),
    # Retries are ours (above), the same in Go and Python.
    ("grpc.enable_retries", 0),
)

_UNAVAILABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

# The metadata key of a write's idempotency key (SPEC section 17).
IDEMPOTENCY_KEY = "idempotency-key"


def new_idempotency_key() -> str:
    """A fresh idempotency key: 32 hex characters (a random UUID)."""
    return uuid.uuid4().hex


class _Backoff:
    """Exponential, with jitter (between half and all of the current step),
    so that clients that lost the same server do not all come back at once."""

    def __init__(self, base: float, cap: float) -> None:
        self.base, self.cap, self.cur = base, cap, 0.0

    def next(self) -> float:
        self.cur = min(max(2 * self.cur, self.base), self.cap)
        return self.cur / 2 + random.uniform(0, self.cur / 2)

    def reset(self) -> None:
        self.cur = 0.0


def _speaks_plaintext(target: str, timeout: float = 0.5) -> bool:
    """Whether target answers plaintext HTTP/2: it sends its SETTINGS in
    reply to the client preface, where a TLS server would not. Asked only
    when a TLS client found the server unavailable, to tell a plaintext
    server (a setup that cannot work) from one that is down."""
    hostport = target
    for prefix in ("dns:///", "dns:", "ipv4:", "ipv6:"):
        if hostport.startswith(prefix):
            hostport = hostport[len(prefix):]
            break
    host, _, port = hostport.rpartition(":")
    if not host or "/" in hostport or "," in hostport:
        return False  # unix sockets, lists of addresses: not probed
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as s:
            s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
            head = b""
            while len(head) < 9:
                chunk = s.recv(9 - len(head))
                if not chunk:
                    return False
                head += chunk
            return head[3] == 0x04  # a SETTINGS frame
    except (OSError, ValueError):
        return False


class _Connection:
    """A channel, its stubs and the feed thread: what must not cross a fork."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.channel = channel
        self.config = config_pb2_grpc.ConfigServiceStub(channel)
        self.prompts = prompt_pb2_grpc.PromptServiceStub(channel)
        self.changes = change_pb2_grpc.ChangeServiceStub(channel)
        self.stopping = threading.Event()
        self.stream: Any = None
        self.thread: Optional[threading.Thread] = None

    def stop(self) -> None:
        self.stopping.set()
        stream = self.stream
        if stream is not None:
            stream.cancel()
        t = self.thread
        if t is not None and t is not threading.current_thread():
            t.join(5)
            if t.is_alive():
                log.warning("aiconfig: the change feed thread did not stop within 5 s")
        self.channel.close()


class _Process:
    """Everything one process owns: a forked child builds its own."""

    def __init__(self, cache_size: int) -> None:
        self.pid = os.getpid()
        self.cache = _cache.Cache(cache_size)
        self.conn: Optional[_Connection] = None
        self.lock = threading.Lock()
        self.down_until = 0.0  # monotonic time until which the server is taken as down
        # Set once the feed was first in step, or its first stream failed:
        # the first read waits for it (briefly), so that its answer is kept.
        self.feed_settled = threading.Event()


class Client:
    """A client of the aiconfig service; safe to share between threads.

    target: host:port (or any gRPC target). token: a bearer token; caching
    needs a SERVICE (or ADMIN) token, which may watch the change feed, and
    only SERVICE tokens receive API keys. insecure: plaintext, only when
    asked (development, a sidecar on loopback); otherwise TLS, with
    root_certificates / private_key / certificate_chain (PEM bytes) as
    grpc.ssl_channel_credentials takes them (TLS against a plaintext
    server raises ConfigurationError, which is not retryable). timeout: seconds per call,
    retries included. max_stale: seconds after the feed was last in step
    during which cached answers stand in for a server that cannot answer.
    cache_size: answers kept at most (0: none, and no feed).
    """

    def __init__(
        self,
        target: str,
        token: Optional[str] = None,
        insecure: bool = False,
        *,
        root_certificates: Optional[bytes] = None,
        private_key: Optional[bytes] = None,
        certificate_chain: Optional[bytes] = None,
        timeout: float = 2.0,
        max_stale: float = 600.0,
        cache_size: int = 10_000,
        options: Sequence[Tuple[str, Any]] = (),
    ) -> None:
        if insecure and (root_certificates or private_key or certificate_chain):
            raise ValueError("aiconfig.Client: insecure=True cannot be combined with TLS certificates")
        if (private_key is None) != (certificate_chain is None):
            raise ValueError("aiconfig.Client: a client certificate needs both private_key and certificate_chain")
        self._target = target
        self._metadata: Tuple[Tuple[str, str], ...] = (("authorization", "Bearer " + token),) if token else ()
        self._insecure = insecure
        self._tls = (root_certificates, private_key, certificate_chain)
        self._timeout = timeout
        self._max_stale = max_stale
        self._cache_size = cache_size
        # A connection attempt may take as long as a call may wait, and no
        # less than 1 s: 100 ms failed handshakes on a loaded machine ("tcp
        # handshaker shutdown", 31 of 40 forked children connecting at
        # once); gRPC's default, 20 s, left an attempt that reached a server
        # still starting waiting that long after the server was up.
        connect_ms = max(1_000, int(timeout * 1000))
        self._options = tuple(_CHANNEL_OPTIONS) + (("grpc.min_reconnect_backoff_ms", connect_ms),) + tuple(options)
        self._lock = threading.Lock()
        self._proc: Optional[_Process] = None
        self._closed = False
        _clients.add(self)

    def __repr__(self) -> str:
        return f"aiconfig.Client({self._target!r})"

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # The reads.

    def model_config(self, account_id: str, function: str) -> ModelConfig:
        """The configuration an account uses for a function (auto_cluster,
        generate_ideas, generate_content, generate_image_prompts,
        generate_images)."""
        p = self._proc
        if p is None or p.pid != os.getpid():
            p = self._process()
        key = (account_id, _cache.MODEL_CONFIG, function)
        v = p.cache.get(key)
        if v is not None:
            return v
        req = config_pb2.GetModelConfigRequest(account_id=account_id, function=function)
        return self._load(p, key, lambda c, t: ModelConfig.from_pb(
            c.config.GetModelConfig(req, timeout=t, metadata=self._metadata)))

    def effective_prompt(self, account_id: str, prompt_type: str) -> EffectivePrompt:
        """The prompt an account uses for a prompt type."""
        p = self._proc
        if p is None or p.pid != os.getpid():
            p = self._process()
        key = (account_id, _cache.EFFECTIVE_PROMPT, prompt_type)
        v = p.cache.get(key)
        if v is not None:
            return v
        req = prompt_pb2.GetEffectivePromptRequest(account_id=account_id, prompt_type=prompt_type)
        return self._load(p, key, lambda c, t: EffectivePrompt.from_pb(
            c.prompts.GetEffectivePrompt(req, timeout=t, metadata=self._metadata)))

    def generation_context(self, account_id: str, function: str, author_profile_id: str = "",
                           content_strategy_id: str = "") -> GenerationContext:
        """Everything a generation job of function needs, in one answer: the
        model configuration, the function's prompt, and the author profile
        and content strategy named (else the account's defaults, else the
        platform's). A named one the account cannot use raises NotFoundError
        (Reason.AUTHOR_PROFILE_NOT_FOUND / CONTENT_STRATEGY_NOT_FOUND, its id
        in metadata)."""
        p = self._proc
        if p is None or p.pid != os.getpid():
            p = self._process()
        key = (account_id, _cache.GENERATION_CONTEXT, (function, author_profile_id, content_strategy_id))
        v = p.cache.get(key)
        if v is not None:
            return v
        req = config_pb2.GetGenerationContextRequest(account_id=account_id, function=function,
                                                     author_profile_id=author_profile_id,
                                                     content_strategy_id=content_strategy_id)
        return self._load(p, key, lambda c, t: GenerationContext.from_pb(
            c.config.GetGenerationContext(req, timeout=t, metadata=self._metadata)))

    def render_prompt(self, account_id: str, prompt_type: str, variables: Mapping[str, str]) -> str:
        """The effective prompt with its {{variables}} filled here, by the
        server's rules: a missing value raises InvalidArgumentError naming
        it, a variable the prompt does not have is refused, and values are
        inserted literally (never expanded again, nothing escaped)."""
        p = self.effective_prompt(account_id, prompt_type)
        return render(p.text, p.variables, variables)

    # The writes (SPEC section 17): each carries a fresh idempotency key,
    # and a retry after UNAVAILABLE (same backoff and deadline as the
    # reads) sends the same key, so a write whose answer was lost is
    # never applied twice. A write does not touch the cache: the change
    # feed drops what it affects, as it does for anyone else's write; the
    # write returns once this process's feed has brought it (read your
    # writes), up to the client's timeout.

    def upsert_account(self, account_id: str, name: str, plan: Union[str, int], *,
                       expected_revision: Optional[int] = None,
                       idempotency_key: Optional[str] = None) -> Account:
        """Creates or updates an account (AccountService.UpsertAccount;
        ADMIN or SERVICE token). plan: "PLAN_FREE", "PLAN_STARTER",
        "PLAN_GROWTH", "PLAN_SCALE" (or the enum's number); any other is
        refused here with InvalidArgumentError. idempotency_key: 1-128
        printable ASCII characters; by default a fresh one per call."""
        if isinstance(plan, str):
            try:
                plan = common_pb2.Plan.Value(plan)
            except ValueError:
                plan = -1
        if isinstance(plan, bool) or not isinstance(plan, int) or plan <= 0:
            raise error(grpc.StatusCode.INVALID_ARGUMENT,
                        "account.plan must be one of PLAN_FREE, PLAN_STARTER, PLAN_GROWTH, PLAN_SCALE",
                        Reason.VALIDATION_FAILED, field_violations=[FieldViolation(
                            "account.plan", "one of PLAN_FREE, PLAN_STARTER, PLAN_GROWTH, PLAN_SCALE")])
        req = account_pb2.UpsertAccountRequest(
            account=account_pb2.Account(id=account_id, name=name, plan=plan), expected_revision=expected_revision)
        a = Account.from_pb(self._write(
            lambda c, t, md: account_pb2_grpc.AccountServiceStub(c.channel).UpsertAccount(req, timeout=t, metadata=md),
            idempotency_key))
        self._catch_up(a.revision)
        return a

    def _write(self, call: Callable[[_Connection, float, Tuple[Tuple[str, str], ...]], Any],
               idempotency_key: Optional[str]) -> Any:
        key = new_idempotency_key() if idempotency_key is None else idempotency_key
        if not (1 <= len(key) <= 128 and all(" " <= ch <= "~" for ch in key)):
            raise error(grpc.StatusCode.INVALID_ARGUMENT, "an idempotency key is 1 to 128 printable ASCII characters",
                        Reason.VALIDATION_FAILED, field_violations=[FieldViolation(
                            IDEMPOTENCY_KEY, "1 to 128 printable ASCII characters")])
        md = self._metadata + ((IDEMPOTENCY_KEY, key),)
        p = self._proc
        if p is None or p.pid != os.getpid():
            p = self._process()
        return self._invoke(p, lambda c, t: call(c, t, md), _MAX_ATTEMPTS)

    def _catch_up(self, revision: int) -> None:
        """Waits, up to the client's timeout, until this process's change
        feed has applied revision, so that no read after the write serves
        an answer from before it. A feed out of step serves nothing from
        the cache as fresh: nothing to wait for then."""
        p = self._proc
        if p is None or p.pid != os.getpid():
            return
        deadline = time.monotonic() + self._timeout
        while True:
            st = p.cache.stats()
            if not st["in_step"] or st["revision"] >= revision:
                return
            if time.monotonic() >= deadline:
                log.warning("aiconfig: the change feed has not brought revision %d within %.1f s; "
                            "cached answers may predate the write for a moment", revision, self._timeout)
                return
            time.sleep(0.001)

    def stats(self) -> Dict[str, Any]:
        """The cache's counters and the change feed's state (this process)."""
        p = self._proc
        if p is None or p.pid != os.getpid():
            return {}
        return p.cache.stats()

    def close(self) -> None:
        """Stops the change feed and closes the channel."""
        self._closed = True
        p, self._proc = self._proc, None
        if p is not None and p.pid == os.getpid() and p.conn is not None:
            p.conn.stop()
        _clients.discard(self)

    # The machinery.

    def _process(self) -> _Process:
        with self._lock:
            if self._closed:
                raise AiconfigError(grpc.StatusCode.CANCELLED, "the client is closed")
            p = self._proc
            if p is None or p.pid != os.getpid():  # first use, or a forked child
                p = self._proc = _Process(self._cache_size)
            return p

    def _connection(self, p: _Process) -> _Connection:
        conn = p.conn
        if conn is not None:
            return conn
        with p.lock:
            if p.conn is None:
                if self._insecure:
                    channel = grpc.insecure_channel(self._target, options=self._options)
                else:
                    channel = grpc.secure_channel(self._target, grpc.ssl_channel_credentials(*self._tls), options=self._options)
                _register_fork_handlers()
                conn = _Connection(channel)
                if self._cache_size > 0:
                    conn.thread = threading.Thread(target=self._follow, args=(p, conn), name="aiconfig-feed", daemon=True)
                    conn.thread.start()
                p.conn = conn
            return p.conn

    def _load(self, p: _Process, key: _cache.Key, call: Callable[[_Connection, float], Any]) -> Any:
        """Answers a read the cache could not: from the server, storing the
        answer when its ticket allows, or from what the cache holds when the
        server cannot answer."""
        if self._cache_size > 0 and not p.feed_settled.is_set():
            # A read before the feed is in step could not be kept (nothing
            # would say whether a change came between), and a worker that
            # reads once at start and then loses the server would have
            # nothing to serve: the first reads wait for the feed, briefly.
            self._open(p)
            p.feed_settled.wait(min(self._timeout / 2, _FEED_WAIT))
        held = p.cache.fallback(key, self._max_stale)
        if held is not None and time.monotonic() < p.down_until:
            p.cache.served()
            return held
        ticket = p.cache.begin(key[0])
        value = None
        try:
            value = self._invoke(p, call, 1 if held is not None else _MAX_ATTEMPTS)
            return value
        except AiconfigError as e:
            if e.code in _UNAVAILABLE:
                p.down_until = time.monotonic() + _PROBE_INTERVAL
                held = p.cache.fallback(key, self._max_stale)
                if held is not None:
                    p.cache.served()
                    return held
            raise
        finally:
            p.cache.finish(ticket, key, value)

    def _open(self, p: _Process) -> None:
        """Opens the channel and starts the feed (at the gate, as a call)."""
        gate = _gate
        gate.enter()
        try:
            self._connection(p)
        finally:
            gate.leave()

    def _invoke(self, p: _Process, call: Callable[[_Connection, float], Any], attempts: int) -> Any:
        """Runs call within the client's deadline, retrying UNAVAILABLE."""
        deadline = time.monotonic() + self._timeout
        wait, attempt = _Backoff(_RETRY_DELAY, 8 * _RETRY_DELAY), 0
        while True:
            gate = _gate  # a child replaces it; this thread leaves the one it entered
            gate.enter()
            conn = None
            try:
                conn = self._connection(p)
                return call(conn, max(deadline - time.monotonic(), 0.001))
            except (grpc.RpcError, ValueError) as e:
                if conn is None:
                    raise
                if conn.stopping.is_set():  # the channel was closed under the call
                    if self._closed:
                        raise AiconfigError(grpc.StatusCode.CANCELLED, "the client is closed") from None
                    if p.conn is not conn:
                        continue  # closed for a fork: use the new one
                if isinstance(e, ValueError):
                    raise
                err = from_rpc_error(e)
            finally:
                gate.leave()
            attempt += 1
            pause = wait.next()
            if err.code != grpc.StatusCode.UNAVAILABLE or attempt >= attempts or time.monotonic() + pause >= deadline:
                if err.code == grpc.StatusCode.UNAVAILABLE and not self._insecure and _speaks_plaintext(self._target):
                    raise ConfigurationError(
                        f"{self._target} answers in plaintext, not TLS: pass insecure=True to aiconfig.Client for a "
                        f"plaintext server (development, make run), or serve TLS ({err.message})") from None
                raise err from None
            time.sleep(pause)

    def _follow(self, p: _Process, conn: _Connection) -> None:
        """The feed thread: one WatchChanges stream at a time, applied to the
        cache; resumes from the last revision applied after a disconnect and
        starts over when the server no longer keeps what it would resume
        from."""
        wait = _Backoff(0.1, 5.0)
        lost = False  # logged that the feed is down (once per outage)
        while not conn.stopping.is_set():
            err: Optional[AiconfigError] = None
            try:
                stream = conn.changes.WatchChanges(
                    change_pb2.WatchChangesRequest(from_revision=p.cache.position() or -1), metadata=self._metadata)
                conn.stream = stream
                if conn.stopping.is_set():
                    stream.cancel()
                for ch in stream:
                    if p.cache.apply(ch):
                        log.info("aiconfig: change feed in step at revision %d", ch.revision)
                        p.feed_settled.set()
            except grpc.RpcError as e:
                err = from_rpc_error(e)
            except ValueError:  # the channel closed under us: we are stopping
                pass
            was_in_step = p.cache.leave()
            p.feed_settled.set()  # (failed: reads go on without waiting)
            if conn.stopping.is_set():
                return
            if err is None:
                err = error(grpc.StatusCode.UNAVAILABLE, "the change feed ended")
            if err.code == grpc.StatusCode.OUT_OF_RANGE and err.reason == Reason.REVISION_COMPACTED:
                try:
                    oldest = int(err.metadata["oldest_revision"])
                except (KeyError, ValueError):
                    pass
                else:
                    log.warning("aiconfig: the change feed no longer holds the changes after revision %d; "
                                "dropping the cache and starting over from %d", p.cache.position(), oldest)
                    p.cache.restart(oldest)
                    continue
            if was_in_step:
                wait.reset()
            if not lost or was_in_step:
                lost = True
                log.warning("aiconfig: change feed lost (%s); serving cached answers for up to %.0f s while it "
                            "reconnects", err, self._max_stale)
            delay = wait.next()
            if err.code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
                delay = max(delay, 60.0)  # a token that may not watch: reads are not cached
            conn.stopping.wait(delay)

    def _suspend_for_fork(self) -> None:
        p = self._proc
        if p is not None and p.pid == os.getpid() and p.conn is not None:
            conn, p.conn = p.conn, None
            conn.stop()


class _ForkGate:
    """Keeps every client's calls out of a fork: while a fork is under way,
    calls wait here (no thread may be inside gRPC when the process is
    copied: the child would inherit a lock or a socket in use, and hang or
    crash), and the fork waits for the calls in flight to finish."""

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.forking = False
        self.active = 0

    def enter(self) -> None:
        with self.cond:
            while self.forking:
                self.cond.wait()
            self.active += 1

    def leave(self) -> None:
        with self.cond:
            self.active -= 1
            if self.active == 0:
                self.cond.notify_all()

    def close(self, timeout: float) -> bool:
        """Holds new calls; True once none is in flight (within timeout)."""
        with self.cond:
            self.forking = True
            return self.cond.wait_for(lambda: self.active == 0, timeout)

    def open(self) -> None:
        with self.cond:
            self.forking = False
            self.cond.notify_all()


# Fork safety: gRPC cannot carry a channel, a call in flight, or its
# threads into a child, so every live client lets its calls finish, holds
# new ones at the gate, and closes its channel and feed thread before a
# fork; both sides reopen on their next call.
_clients: "weakref.WeakSet[Client]" = weakref.WeakSet()
_gate = _ForkGate()
# What a child inherited from its parent's clients, kept from the garbage
# collector: freeing a gRPC object the parent made would call into gRPC
# state that belongs to the parent.
_inherited: list = []
_FORK_DRAIN_TIMEOUT = 5.0


# After the channels are closed, a moment for gRPC's own threads to finish
# with them before the process is copied.
_SETTLE = 0.02


def _grpc_threads() -> list:
    """gRPC's Python threads (those that poll a channel's calls end when
    the calls do)."""
    return [t for t in threading.enumerate()
            if getattr(getattr(t, "_target", None), "__module__", "").startswith("grpc")]


def _before_fork() -> None:
    """Leaves gRPC idle at the fork: new calls held at the gate, the calls
    in flight left to finish (within their deadline), then the feeds
    stopped and the channels closed. Measured on grpcio 1.51 with a thread
    calling in a loop during 40 forks: cancelling calls in flight instead
    (closing the channel under them) left a lock of gRPC's held in about
    half the children (SIGABRT "Mutex::Fer with pending CondVar", or a
    hang); waiting for them left none (tests/test_fork.py)."""
    if not _gate.close(_FORK_DRAIN_TIMEOUT):  # new calls wait; those in flight end (deadline)
        log.error("aiconfig: a call was still in flight after %.0f s at a fork: the child may fail to use gRPC",
                  _FORK_DRAIN_TIMEOUT)
    for c in list(_clients):
        c._suspend_for_fork()  # stops the feed and closes the channel
    deadline = time.monotonic() + 2.0
    for t in _grpc_threads():
        t.join(max(0.0, deadline - time.monotonic()))
    time.sleep(_SETTLE)


def _after_fork_in_parent() -> None:
    _gate.open()


def _after_fork_in_child() -> None:
    global _gate
    _gate = _ForkGate()  # another thread may have held its lock at the fork
    for c in list(_clients):
        c._lock = threading.Lock()  # likewise
        if c._proc is not None:
            _inherited.append(c._proc)


_registered = False


def _register_fork_handlers() -> None:
    """Registers the fork handlers, once per process tree, after gRPC has
    registered its own (at its first channel): Python runs "before"
    handlers last registered first, and gRPC's, which wait for its threads
    to end, can only succeed once ours have closed the channels."""
    global _registered
    if not _registered and hasattr(os, "register_at_fork"):
        _registered = True
        os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                            after_in_child=_after_fork_in_child)
