#!/usr/bin/env bash
# Installs what tests/observability needs and readies the broker's metrics:
#   - Debian's prometheus package, for /usr/bin/prometheus and /usr/bin/promtool (the tests
#     start their own Prometheus on a free port; the package's service is kept stopped);
#   - RabbitMQ's management and prometheus plugins, whose /metrics/per-object endpoint on
#     port 15692 has the per-queue series the dashboards and alerts use. That endpoint needs
#     no configuration; the compose file and the chart set prometheus.return_per_object_metrics
#     instead, so their plain /metrics has the same series.
# Idempotent: with everything in place it only checks.
set -euo pipefail

say() { printf 'install-observability-tools: %s\n' "$*"; }

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
    say "prometheus and promtool are installed"
else
    say "installing Debian's prometheus package"
    apt-get update -qq
    # Without recommends: prometheus-node-exporter would want port 9100, the consumer's.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus \
        >/dev/null
fi
promtool --version 2>&1 | sed -n 1p

# The package enables a service on port 9090. Where an init system started it, stop it:
# the tests do not need it, and an idle Prometheus scraping nothing only costs memory.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    say "stopping the prometheus service"
    systemctl stop prometheus
    systemctl disable --quiet prometheus 2>/dev/null || true
elif [ -x /etc/init.d/prometheus ] && /etc/init.d/prometheus status >/dev/null 2>&1; then
    say "stopping the prometheus service"
    /etc/init.d/prometheus stop >/dev/null || true
fi

if command -v rabbitmq-plugins >/dev/null 2>&1; then
    # On a running node this starts the plugins; on a stopped one it configures them offline.
    if ! rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus >/dev/null 2>&1; then
        rabbitmq-plugins enable --offline rabbitmq_management rabbitmq_prometheus >/dev/null
    fi
    say "rabbitmq_management and rabbitmq_prometheus are enabled"
else
    say "rabbitmq-plugins not found; install rabbitmq-server first" >&2
    exit 1
fi
