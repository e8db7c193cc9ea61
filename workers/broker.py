"""The dramatiq broker named by OPSGRAPH_BROKER_URL, or none (the embedded mode).

dramatiq falls back to a RabbitMQ broker on localhost when an actor is declared without a
broker and none was set; opsgraph declares its actors only in `workers.actors.declare_actors`,
with the broker this module made, after `dramatiq.set_broker`."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from domains.common.errors import Invalid
from domains.common.settings import CoreSettings, broker_url


def make_broker(
    url: str | None,
    *,
    namespace: str = "opsgraph",
    heartbeat_timeout_ms: int = 60_000,
    maintenance_chance: int = 1000,
) -> dramatiq.Broker | None:
    """amqp(s):// -> RabbitMQ (publisher confirms on: a message counts as sent only once
    RabbitMQ has it), redis(s):// -> Redis (keys under `namespace`), None or '' -> None."""
    url = broker_url(url)
    if url is None:
        return None
    scheme = url.split("://", 1)[0].lower()
    broker: dramatiq.Broker
    if scheme in ("amqp", "amqps"):
        broker = RabbitmqBroker(url=url, confirm_delivery=True)
    elif scheme in ("redis", "rediss"):
        broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=url,
            namespace=namespace,
            heartbeat_timeout=heartbeat_timeout_ms,
            maintenance_chance=maintenance_chance,
        )
    else:  # pragma: no cover - broker_url() admits only the schemes above
        raise Invalid("OPSGRAPH_BROKER_URL", f"unsupported scheme {scheme!r}")
    dramatiq.set_broker(broker)
    return broker


def broker_from_settings(settings: CoreSettings) -> dramatiq.Broker | None:
    return make_broker(
        settings.broker_url,
        namespace=settings.broker_namespace,
        heartbeat_timeout_ms=settings.redis_heartbeat_timeout_ms,
        maintenance_chance=settings.redis_maintenance_chance,
    )


def close_broker(broker: dramatiq.Broker) -> None:
    """Close the broker's connections (dramatiq's close() leaves Redis' pool open)."""
    broker.close()
    if isinstance(broker, RedisBroker):
        broker.client.close()
        broker.client.connection_pool.disconnect()
