#!/usr/bin/env bash
# Make sure a RabbitMQ answers at $AMQP_URL: use it if it does, else start the local
# rabbitmq-server if one is installed, else say how to get one. Exits non-zero on failure.
set -euo pipefail

url="${AMQP_URL:-amqp://guest:guest@localhost:5672/%2F}"
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"
[ "$port" = "$host" ] && port=5672

answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

if answers; then
  exit 0
fi

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  cat >&2 <<MSG
No RabbitMQ answers at $host:$port and none is installed here. Either
  - point AMQP_URL at a broker you have, or
  - install one: apt-get install rabbitmq-server (Debian/Ubuntu), brew install rabbitmq
    (macOS), or docker run -d -p 5672:5672 -p 15672:15672 rabbitmq:3.13-management
MSG
  exit 1
fi

if [ "$host" != "localhost" ] && [ "$host" != "127.0.0.1" ]; then
  echo "No RabbitMQ answers at $host:$port; only a local one can be started here." >&2
  exit 1
fi

echo "Starting the local rabbitmq-server ..." >&2
rabbitmq-server -detached
for _ in $(seq 1 60); do
  answers && { echo "RabbitMQ is up on $host:$port" >&2; exit 0; }
  sleep 1
done
echo "rabbitmq-server did not open $host:$port within 60 s" >&2
exit 1
