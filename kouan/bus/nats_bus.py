"""NATS JetStream alarm bus.

- Stream ``KOUAN_ALARMS`` on ``kouan.alarms.>`` (file storage, limits retention, ``max_age``),
  with a ``duplicate_window``: a message whose ``Nats-Msg-Id`` (the alarm id) was stored in the
  window is acknowledged as a duplicate and not stored again, so the outbox relay may safely
  re-publish after a crash or a lost acknowledgement.
- One durable pull consumer per receiver (``gate``, ``command-centre`` by default) with
  explicit acks: a receiver that is down catches up when it returns, a message that is not
  acknowledged within ``ack_wait_s`` is redelivered.

nats-py is asyncio; this adapter runs one event loop in a daemon thread and exposes blocking
methods, so synchronous code (relay thread, CLI, sync FastAPI routes) calls it directly. The
connection is opened on first use and reconnects forever, so a NATS restart is ridden out:
calls made while it is down raise :class:`BusError` and the caller (relay, consumer) retries.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from kouan.bus.base import BusError, Delivery, PublishAck
from kouan.bus.subjects import (
    DEFAULT_CONSUMERS,
    STREAM,
    SUBJECT_WILDCARD,
    check_consumer_name,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# Everything nats-py raises when the server is away or slow; all mean "try again later".
_TRANSIENT = (nats.errors.Error, asyncio.TimeoutError, OSError, concurrent.futures.TimeoutError)


class _LoopThread:
    """An asyncio loop running in a daemon thread; ``run`` blocks the caller on a coroutine."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout_s)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()


class NatsAlarmBus:
    """Alarm bus on NATS JetStream at ``url`` (``nats://host:port``)."""

    backend = "nats"

    def __init__(
        self,
        url: str,
        *,
        stream: str = STREAM,
        consumers: Sequence[str] = DEFAULT_CONSUMERS,
        duplicate_window_s: float = 600.0,
        max_age_s: float = 30 * 86400.0,
        ack_wait_s: float = 30.0,
        publish_timeout_s: float = 2.0,
        connect_timeout_s: float = 2.0,
        reconnect_wait_s: float = 0.25,
        client_name: str = "kouan",
    ) -> None:
        if not url.startswith(("nats://", "tls://")):
            raise ValueError(f"bus url {url!r} must start with nats:// or tls://")
        for name, v in (("duplicate_window_s", duplicate_window_s), ("max_age_s", max_age_s),
                        ("ack_wait_s", ack_wait_s), ("publish_timeout_s", publish_timeout_s),
                        ("connect_timeout_s", connect_timeout_s)):
            if v <= 0:
                raise ValueError(f"{name} must be > 0")
        if duplicate_window_s > max_age_s:
            raise ValueError("duplicate_window_s cannot exceed max_age_s")
        self.url = url
        self.stream = stream
        self.consumers = tuple(check_consumer_name(c) for c in consumers)
        self.duplicate_window_s = duplicate_window_s
        self.max_age_s = max_age_s
        self.ack_wait_s = ack_wait_s
        self.publish_timeout_s = publish_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.reconnect_wait_s = reconnect_wait_s
        self.client_name = client_name
        self._io = _LoopThread(f"nats-bus-{stream}")
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._lock: asyncio.Lock | None = None
        self._closed = False
        self._closing = False

    @property
    def target(self) -> str:
        return self.url

    # -- connection -------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T], timeout_s: float, what: str) -> T:
        if self._closed:
            coro.close()
            raise BusError(f"{what}: the NATS bus is closed")
        try:
            return self._io.run(coro, timeout_s)
        except BusError:
            raise
        except _TRANSIENT as exc:
            raise BusError(f"{what} on {self.url} failed: "
                           f"{type(exc).__name__}: {exc or 'timeout'}") from exc

    async def _connected(self) -> JetStreamContext:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._js is not None and self._nc is not None and not self._nc.is_closed:
                return self._js
            nc = await asyncio.wait_for(self._connect(), self.connect_timeout_s * 2)
            js = nc.jetstream(timeout=self.publish_timeout_s)
            try:
                await self._ensure_stream(js)
            except BaseException:
                await nc.close()
                raise
            self._nc, self._js = nc, js
            return js

    async def _connect(self) -> Client:
        async def on_error(exc: Exception) -> None:
            log.debug("nats %s: %s", self.url, exc)

        async def on_disconnect() -> None:
            if not self._closing:
                log.warning("nats %s: disconnected, reconnecting", self.url)

        async def on_reconnect() -> None:
            log.info("nats %s: reconnected", self.url)

        return await nats.connect(
            servers=self.url, name=self.client_name,
            connect_timeout=self.connect_timeout_s,
            allow_reconnect=True, max_reconnect_attempts=-1,
            reconnect_time_wait=self.reconnect_wait_s,
            error_cb=on_error, disconnected_cb=on_disconnect, reconnected_cb=on_reconnect,
        )

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        cfg = StreamConfig(
            name=self.stream, subjects=[SUBJECT_WILDCARD], storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS, max_age=self.max_age_s,
            duplicate_window=self.duplicate_window_s,
        )
        try:
            info = await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await js.add_stream(cfg)
            log.info("created JetStream stream %s on %s", self.stream, SUBJECT_WILDCARD)
        else:
            have = info.config
            if (have.duplicate_window != cfg.duplicate_window or have.max_age != cfg.max_age
                    or have.subjects != cfg.subjects):
                await js.update_stream(cfg)
        for consumer in self.consumers:
            await self._ensure_consumer(js, consumer)

    async def _ensure_consumer(self, js: JetStreamContext, durable: str) -> None:
        try:
            await js.consumer_info(self.stream, durable)
        except nats.js.errors.NotFoundError:
            await js.add_consumer(self.stream, ConsumerConfig(
                durable_name=durable, ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL, ack_wait=self.ack_wait_s, max_deliver=-1,
                filter_subject=SUBJECT_WILDCARD,
                description=f"kouan alarm receiver {durable}",
            ))

    # -- AlarmBus ---------------------------------------------------------------------------

    def publish(self, subject: str, payload: bytes, msg_id: str) -> PublishAck:
        async def go() -> PublishAck:
            js = await self._connected()
            ack = await js.publish(subject, payload, timeout=self.publish_timeout_s,
                                   headers={"Nats-Msg-Id": msg_id})
            return PublishAck(stream=ack.stream, seq=int(ack.seq), duplicate=bool(ack.duplicate))

        budget = self.connect_timeout_s * 2 + self.publish_timeout_s + 1.0
        return self._call(go(), budget, "publish")

    def subscribe(self, consumer: str) -> NatsSubscription:
        check_consumer_name(consumer)

        async def go() -> JetStreamContext.PullSubscription:
            js = await self._connected()
            await self._ensure_consumer(js, consumer)
            return await js.pull_subscribe_bind(durable=consumer, stream=self.stream)

        budget = self.connect_timeout_s * 2 + self.publish_timeout_s + 1.0
        return NatsSubscription(self, consumer, self._call(go(), budget, "subscribe"))

    def ping(self) -> None:
        """Connect (if needed) and round-trip to the server; raise :class:`BusError` if not."""
        async def go() -> None:
            await self._connected()
            if self._nc is None:
                raise BusError("not connected")
            await self._nc.flush(timeout=self.connect_timeout_s)  # type: ignore[arg-type]

        self._call(go(), self.connect_timeout_s * 3 + 1.0, "ping")

    def close(self) -> None:
        if self._closed:
            return
        self._closing = True

        async def go() -> None:
            if self._nc is not None and not self._nc.is_closed:
                await self._nc.close()

        try:
            self._io.run(go(), 5.0)
        except Exception as exc:  # closing must never raise
            log.debug("closing nats connection: %s", exc)
        self._closed = True
        self._io.stop()


class NatsDelivery:
    """A JetStream message handed to a consumer."""

    def __init__(self, bus: NatsAlarmBus, msg: Msg) -> None:
        self._bus = bus
        self._msg = msg
        self.subject = msg.subject
        self.data = msg.data
        headers = msg.headers or {}
        self.msg_id = headers.get("Nats-Msg-Id", "")
        self.num_delivered = int(msg.metadata.num_delivered or 1)

    def ack(self) -> None:
        self._bus._call(self._msg.ack(), self._bus.publish_timeout_s, "ack")

    def nak(self, delay_s: float = 0.0) -> None:
        self._bus._call(self._msg.nak(delay=delay_s or None), self._bus.publish_timeout_s, "nak")


class NatsSubscription:
    """A bound JetStream pull subscription on a durable consumer."""

    def __init__(self, bus: NatsAlarmBus, consumer: str,
                 psub: JetStreamContext.PullSubscription) -> None:
        self._bus = bus
        self.consumer = consumer
        self._psub = psub

    def fetch(self, max_msgs: int, timeout_s: float) -> list[Delivery]:
        if max_msgs < 1:
            raise ValueError("max_msgs must be >= 1")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")

        async def go() -> list[Msg]:
            try:
                return await self._psub.fetch(max_msgs, timeout=timeout_s)
            except TimeoutError:  # nats.errors.TimeoutError is a subclass
                return []

        msgs = self._bus._call(go(), timeout_s + self._bus.publish_timeout_s + 1.0, "fetch")
        return [NatsDelivery(self._bus, m) for m in msgs]

    def close(self) -> None:
        try:
            self._bus._call(self._psub.unsubscribe(), 2.0, "unsubscribe")
        except BusError as exc:
            log.debug("unsubscribe %s: %s", self.consumer, exc)
