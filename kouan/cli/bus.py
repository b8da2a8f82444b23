"""``kouan bus``: alarm bus status, the outbox relay, a console consumer, the MQTT bridge.

``relay`` and ``consume`` run until interrupted (or ``--once`` / ``--count``); ``status``
exits 1 when the configured bus is unreachable.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Annotated

import typer

from kouan.config import get_settings
from kouan.errors import UsageError

if TYPE_CHECKING:
    from kouan.bus.base import Delivery
    from kouan.domain import Alarm
    from kouan.services import Services

bus_app = typer.Typer(help="Alarm bus: status, outbox relay, consumers, MQTT bridge.",
                      no_args_is_help=True)


def _services() -> Services:
    from kouan.services import build_services

    return build_services(get_settings())


@bus_app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Which bus is configured, whether it answers, and the outbox backlog."""
    from kouan.bus.health import check_bus

    svc = _services()
    try:
        st = check_bus(svc.settings, svc.sessions)
    finally:
        svc.close()
    if as_json:
        typer.echo(json.dumps(st.as_dict(), indent=2))
    else:
        typer.echo(f"{st.backend} {st.target}: {'ok' if st.ok else 'FAIL'} - {st.detail}")
    if not st.ok:
        raise typer.Exit(1)


@bus_app.command("relay")
def relay(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between outbox polls.", min=0.01)] = 0.5,
) -> None:
    """Publish committed alarms from the outbox to the bus."""
    svc = _services()
    try:
        if once:
            res = svc.relay.relay_once()
            typer.echo(f"published {res.published} ({res.duplicates} already on the bus), "
                       f"failed {res.failed}, pending {svc.relay.pending()}")
            for err in res.errors:
                typer.echo(f"  {err}", err=True)
            if res.failed:
                raise typer.Exit(1)
            return
        svc.relay.poll_interval_s = poll
        svc.relay.start()
        typer.echo("relaying; Ctrl-C to stop", err=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        svc.close()


@bus_app.command("consume")
def consume(
    consumer: Annotated[str, typer.Option(help="Durable consumer name, e.g. gate.")] = "gate",
    count: Annotated[int, typer.Option(help="Stop after this many new alarms (0: never).",
                                       min=0)] = 0,
    timeout: Annotated[float, typer.Option(help="Stop after this many idle seconds (0: never).",
                                           min=0)] = 0,
) -> None:
    """Receive alarms as CONSUMER, print one JSON line each, record acknowledgements."""
    from kouan.bus.consumer import AlarmConsumer
    from kouan.bus.subjects import check_consumer_name

    try:
        check_consumer_name(consumer)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    svc = _services()

    def show(alarm: Alarm, d: Delivery) -> None:
        typer.echo(json.dumps({"subject": d.subject, "deliveries": d.num_delivered,
                               "alarm": alarm.model_dump(mode="json")}, ensure_ascii=False))

    try:
        worker = AlarmConsumer(svc.bus.subscribe(consumer), svc.sessions, svc.evidence.ledger,
                               show)
        got, idle_since = 0, time.monotonic()
        while not count or got < count:
            n = worker.poll_once(1.0)
            got += n
            if n:
                idle_since = time.monotonic()
            elif timeout and time.monotonic() - idle_since >= timeout:
                break
    except KeyboardInterrupt:
        pass
    finally:
        svc.close()


@bus_app.command("mqtt-bridge")
def mqtt_bridge(
    host: Annotated[str, typer.Option(help="MQTT broker host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="MQTT broker port.", min=1, max=65535)] = 1883,
    once: Annotated[bool, typer.Option("--once", help="Forward what is waiting, then exit.")]
    = False,
) -> None:
    """Republish alarms to MQTT topics kouan/alarms/<port>/<lane>/<severity>."""
    from kouan.bus.mqtt_bridge import BRIDGE_CONSUMER, MqttBridge

    svc = _services()
    bridge = MqttBridge(svc.bus.subscribe(BRIDGE_CONSUMER), host, port)
    try:
        if once:
            total = 0
            while n := bridge.forward_once(1.0):
                total += n
            typer.echo(f"forwarded {total}")
            return
        bridge.start()
        typer.echo(f"bridging to mqtt://{host}:{port}; Ctrl-C to stop", err=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        bridge.stop()
        svc.close()


def register(app: typer.Typer) -> None:
    app.add_typer(bus_app, name="bus")
