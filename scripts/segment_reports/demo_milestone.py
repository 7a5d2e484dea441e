"""`make demo`'s milestone: a `segment-reports run` that announces customers.

Starts a throwaway RabbitMQ broker on loopback (when rabbitmq-server is
installed), binds a queue to its `milestones` exchange, writes an actions file
with one milestone (every 100th customer: persons who downloaded an invoice),
runs `segment-reports run` with it, and prints the messages the queue
received. Without rabbitmq-server it says how to install it and runs the build
without milestones. Usage: python -m segment_reports.demo_milestone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from .broker import INSTALL_HINT, Broker, server_binary
from .milestones import ACTIONS_ENV

EXCHANGE = "milestones"
QUEUE = "demo-milestones"


def actions(broker: Broker) -> dict:
    return {
        "milestones": [
            {
                "name": "customers",
                "count": {"persons_who_did": "invoice_downloaded"},
                "every": 100,
                "destination": {
                    "url": broker.url,
                    "exchange": EXCHANGE,
                    "routing_key": "milestones.customers",
                },
            }
        ]
    }


def main() -> int:
    command = [str(Path(sys.executable).with_name("segment-reports")), "run"]
    if server_binary() is None:
        print(
            f"milestone demo skipped: rabbitmq-server is not installed; {INSTALL_HINT}",
            file=sys.stderr,
        )
        return subprocess.run(command).returncode
    import pika

    with tempfile.TemporaryDirectory(prefix="segment-reports-demo-") as directory:
        # as root the broker runs as the rabbitmq user, who must reach its folder
        Path(directory).chmod(0o755)
        broker = Broker(root=Path(directory) / "broker")
        print(f"starting a throwaway RabbitMQ on {broker.url}", file=sys.stderr)
        broker.start()
        try:
            with pika.BlockingConnection(broker.parameters()) as connection:
                channel = connection.channel()
                channel.exchange_declare(EXCHANGE, "topic", durable=True)
                channel.queue_declare(QUEUE, durable=True)
                channel.queue_bind(QUEUE, EXCHANGE, "milestones.#")
            path = Path(directory) / "actions.yml"
            path.write_text(yaml.safe_dump(actions(broker), sort_keys=False))
            print(f"actions file ({ACTIONS_ENV}):\n{path.read_text()}", file=sys.stderr)
            code = subprocess.run(
                command, env={**os.environ, ACTIONS_ENV: str(path)}
            ).returncode
            with pika.BlockingConnection(broker.parameters()) as connection:
                channel = connection.channel()
                received = 0
                while True:
                    method, properties, body = channel.basic_get(QUEUE, auto_ack=True)
                    if method is None:
                        break
                    received += 1
                    print(f"message {properties.message_id} from queue {QUEUE}:")
                    print(json.dumps(json.loads(body), indent=2))
            print(f"{received} milestone message(s) received", file=sys.stderr)
        finally:
            broker.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
