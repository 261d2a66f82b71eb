# Kubernetes targets for resizeq; the root Makefile includes this file.
#   make kind-up [GATEWAY=1] [MONITORING=1]   cluster, image, KEDA, ingress, chart, helm test
#   make kind-down | minikube-up | k8s-render | chart-lint
# kind-up and minikube-up need docker, kind or minikube, helm and kubectl on the machine.

K8S_PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)
HELM ?= $(firstword $(wildcard .tools/bin/helm) helm)
KUBECTL ?= $(firstword $(wildcard .tools/bin/kubectl) kubectl)
KIND ?= kind
MINIKUBE ?= minikube
KIND_CLUSTER ?= resizeq
IMAGE ?= resizeq:0.1.0
K8S_NAMESPACE ?= resizeq
CHART := deploy/helm/resizeq
KEDA_VERSION ?= 2.17.2
INGRESS_NGINX_VERSION ?= 4.13.0
ENVOY_GATEWAY_VERSION ?= v1.5.0
KPS_VERSION ?= 77.0.0
GATEWAY ?= 0
MONITORING ?= 0

CHART_VALUES := --set image.repository=$(firstword $(subst :, ,$(IMAGE))) \
	--set image.tag=$(lastword $(subst :, ,$(IMAGE)))
ifeq ($(GATEWAY),1)
CHART_VALUES += --values deploy/kind/values-gateway.yaml
endif
ifeq ($(MONITORING),1)
CHART_VALUES += --values deploy/kind/values-monitoring.yaml
endif

.PHONY: kind-up kind-down minikube-up k8s-addons k8s-install k8s-render chart-lint

kind-up:
	$(KIND) get clusters | grep -qx '$(KIND_CLUSTER)' \
		|| $(KIND) create cluster --name $(KIND_CLUSTER) --config kind-config.yaml --wait 120s
	docker build -t $(IMAGE) .
	$(KIND) load docker-image $(IMAGE) --name $(KIND_CLUSTER)
	$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) k8s-addons k8s-install

kind-down:
	$(KIND) delete cluster --name $(KIND_CLUSTER)

minikube-up:
	$(MINIKUBE) status >/dev/null 2>&1 || $(MINIKUBE) start --cpus 4 --memory 8g
	$(MINIKUBE) addons enable ingress
	$(MINIKUBE) image build -t $(IMAGE) .
	$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) k8s-addons k8s-install GATEWAY=0 INGRESS_ADDON=1

# KEDA always; ingress-nginx, or Envoy Gateway when GATEWAY=1; kube-prometheus-stack when
# MONITORING=1. minikube brings its own ingress-nginx addon (INGRESS_ADDON=1).
k8s-addons:
	$(HELM) repo add kedacore https://kedacore.github.io/charts --force-update
	$(HELM) upgrade --install keda kedacore/keda --version $(KEDA_VERSION) \
		--namespace keda --create-namespace --wait
ifeq ($(GATEWAY),1)
	$(HELM) upgrade --install eg oci://docker.io/envoyproxy/gateway-helm \
		--version $(ENVOY_GATEWAY_VERSION) --namespace envoy-gateway-system --create-namespace --wait
	$(KUBECTL) apply -f deploy/kind/gateway.yaml
else ifneq ($(INGRESS_ADDON),1)
	$(HELM) repo add ingress-nginx https://kubernetes.github.io/ingress-nginx --force-update
	$(HELM) upgrade --install ingress-nginx ingress-nginx/ingress-nginx \
		--version $(INGRESS_NGINX_VERSION) --namespace ingress-nginx --create-namespace \
		--values deploy/kind/ingress-nginx-values.yaml --wait
endif
ifeq ($(MONITORING),1)
	$(HELM) repo add prometheus-community https://prometheus-community.github.io/helm-charts \
		--force-update
	$(HELM) upgrade --install kube-prometheus-stack \
		prometheus-community/kube-prometheus-stack --version $(KPS_VERSION) \
		--namespace monitoring --create-namespace \
		--values deploy/kind/kube-prometheus-stack-values.yaml --wait --timeout 10m
endif

k8s-install:
	$(HELM) upgrade --install resizeq $(CHART) --namespace $(K8S_NAMESPACE) --create-namespace \
		$(CHART_VALUES) --wait --timeout 10m
	$(HELM) test resizeq --namespace $(K8S_NAMESPACE) --logs

# Regenerates deploy/k8s (plain manifests for kubectl apply -k) from the chart.
k8s-render:
	$(K8S_PYTHON) deploy/k8s/render.py

chart-lint:
	@for values in $(CHART)/ci/*-values.yaml; do \
		echo "helm lint --strict $$values"; \
		$(HELM) lint --strict $(CHART) --values $$values || exit 1; \
	done
	$(K8S_PYTHON) deploy/helm/values_doc.py $(CHART) >/dev/null
	$(K8S_PYTHON) deploy/k8s/render.py --check
