#!/usr/bin/env bash
# Creates the two Secrets deploy/k8s expects, once, before `kubectl apply -k deploy/k8s`:
#   resizeq-rabbitmq-credentials  username, password, amqp-url, host (management URL for KEDA)
#   resizeq-api-keys              api-keys (comma-separated)
# A Secret that already exists is left alone: RabbitMQ keeps the password it first started
# with, so regenerating it would lock the apps out. Delete both Secrets and RabbitMQ's volume
# to start over. Passwords are random alphanumerics, safe inside a URL.
set -euo pipefail

NAMESPACE="${NAMESPACE:-resizeq}"
RABBITMQ_SECRET=resizeq-rabbitmq-credentials
API_KEYS_SECRET=resizeq-api-keys
RABBITMQ_USER="${RABBITMQ_USER:-resizeq}"
RABBITMQ_HOST="resizeq-rabbitmq.${NAMESPACE}.svc"
KUBECTL="${KUBECTL:-kubectl}"

random_alnum() {
    LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$1"
}

exists() {
    "$KUBECTL" --namespace "$NAMESPACE" get secret "$1" >/dev/null 2>&1
}

"$KUBECTL" create namespace "$NAMESPACE" --dry-run=client -o yaml | "$KUBECTL" apply -f -

if exists "$RABBITMQ_SECRET"; then
    echo "secret/$RABBITMQ_SECRET exists in $NAMESPACE: kept"
else
    password="$(random_alnum 32)"
    "$KUBECTL" --namespace "$NAMESPACE" create secret generic "$RABBITMQ_SECRET" \
        --from-literal=username="$RABBITMQ_USER" \
        --from-literal=password="$password" \
        --from-literal=amqp-url="amqp://$RABBITMQ_USER:$password@$RABBITMQ_HOST:5672/%2F" \
        --from-literal=host="http://$RABBITMQ_USER:$password@$RABBITMQ_HOST:15672/"
fi

if exists "$API_KEYS_SECRET"; then
    echo "secret/$API_KEYS_SECRET exists in $NAMESPACE: kept"
else
    "$KUBECTL" --namespace "$NAMESPACE" create secret generic "$API_KEYS_SECRET" \
        --from-literal=api-keys="${API_KEYS:-$(random_alnum 40)}"
fi
