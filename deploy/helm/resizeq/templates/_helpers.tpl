{{/*
Chart name, cut to 63 characters because some Kubernetes name fields are limited to that.
*/}}
{{- define "resizeq.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name. When the release name already contains the chart name it is used
as is, so "helm install resizeq ." gives objects called resizeq-api, not resizeq-resizeq-api.
*/}}
{{- define "resizeq.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, as used by the helm.sh/chart label.
*/}}
{{- define "resizeq.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels every object carries. Selector labels are kept apart below: a Deployment's selector
cannot change on upgrade, so it must never include the chart version.
*/}}
{{- define "resizeq.labels" -}}
helm.sh/chart: {{ include "resizeq.chart" . }}
{{ include "resizeq.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: resizeq
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "resizeq.selectorLabels" -}}
app.kubernetes.io/name: {{ include "resizeq.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Per-component variants; call with (dict "ctx" $ "component" "api").
*/}}
{{- define "resizeq.componentLabels" -}}
{{ include "resizeq.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "resizeq.componentSelectorLabels" -}}
{{ include "resizeq.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Object names.
*/}}
{{- define "resizeq.componentName" -}}
{{- printf "%s-%s" (include "resizeq.fullname" .ctx) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "resizeq.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "resizeq.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "resizeq.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "resizeq.configMapName" -}}
{{- printf "%s-config" (include "resizeq.fullname" .) }}
{{- end }}

{{- define "resizeq.resultsClaimName" -}}
{{- default (printf "%s-results" (include "resizeq.fullname" .)) .Values.storage.existingClaim }}
{{- end }}

{{/*
The Secret that holds the broker's AMQP URL (key amqp-url) and the management URL KEDA reads
(key host): the generated one, the user's for the bundled broker, or the external broker's.
*/}}
{{- define "resizeq.brokerSecretName" -}}
{{- if .Values.rabbitmq.enabled }}
{{- default (printf "%s-rabbitmq" (include "resizeq.fullname" .)) .Values.rabbitmq.auth.existingSecret }}
{{- else }}
{{- required "externalBroker.existingSecret is required when rabbitmq.enabled=false" .Values.externalBroker.existingSecret }}
{{- end }}
{{- end }}

{{- define "resizeq.brokerAmqpUrlKey" -}}
{{- if .Values.rabbitmq.enabled }}amqp-url{{ else }}{{ .Values.externalBroker.amqpUrlKey }}{{ end }}
{{- end }}

{{- define "resizeq.brokerManagementUrlKey" -}}
{{- if .Values.rabbitmq.enabled }}host{{ else }}{{ .Values.externalBroker.managementUrlKey }}{{ end }}
{{- end }}

{{- define "resizeq.brokerVhost" -}}
{{- if .Values.rabbitmq.enabled }}{{ .Values.rabbitmq.auth.vhost }}{{ else }}{{ .Values.externalBroker.vhost }}{{ end }}
{{- end }}

{{- define "resizeq.apiKeysSecretName" -}}
{{- default (printf "%s-api-keys" (include "resizeq.fullname" .)) .Values.apiKeys.existingSecret }}
{{- end }}

{{/*
The nginx body-size limit that lets an upload of config.maxUploadBytes through: the limit in
whole MiB, plus one MiB for the multipart envelope and form fields.
*/}}
{{- define "resizeq.ingressBodySize" -}}
{{- $mib := 1048576 }}
{{- printf "%dm" (add1 (div (add (int64 .Values.config.maxUploadBytes) (sub $mib 1)) $mib)) }}
{{- end }}

{{/*
The container security context every container gets (KEDA's stance).
*/}}
{{- define "resizeq.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext }}
{{- end }}

{{/*
Checks that make a render fail early with a message instead of a broken install.
*/}}
{{- define "resizeq.validate" -}}
{{- $grace := float64 .Values.consumer.terminationGracePeriodSeconds }}
{{- $shutdown := float64 .Values.consumer.shutdownGraceSeconds }}
{{- if le $grace $shutdown }}
{{- fail (printf "consumer.terminationGracePeriodSeconds (%v) must be greater than consumer.shutdownGraceSeconds (%v): Kubernetes kills the consumer at the grace period, before it can finish its in-flight images" .Values.consumer.terminationGracePeriodSeconds .Values.consumer.shutdownGraceSeconds) }}
{{- end }}
{{- if and .Values.consumer.autoscaling.enabled (not .Values.keda.enabled) (lt (int .Values.consumer.autoscaling.minReplicas) 1) }}
{{- fail "consumer.autoscaling.minReplicas must be at least 1 when keda.enabled=false: a HorizontalPodAutoscaler cannot scale to zero" }}
{{- end }}
{{- if and .Values.consumer.autoscaling.enabled (gt (int .Values.consumer.autoscaling.minReplicas) (int .Values.consumer.autoscaling.maxReplicas)) }}
{{- fail (printf "consumer.autoscaling.minReplicas (%v) must not exceed consumer.autoscaling.maxReplicas (%v)" .Values.consumer.autoscaling.minReplicas .Values.consumer.autoscaling.maxReplicas) }}
{{- end }}
{{- if and (not .Values.rabbitmq.enabled) (not .Values.externalBroker.existingSecret) }}
{{- fail "externalBroker.existingSecret is required when rabbitmq.enabled=false: name a Secret holding the AMQP URL and the management URL" }}
{{- end }}
{{- if and .Values.api.httpRoute.enabled (not .Values.api.httpRoute.parentRefs) }}
{{- fail "api.httpRoute.parentRefs must name at least one Gateway when api.httpRoute.enabled=true" }}
{{- end }}
{{- end }}

{{/*
A generated credential that survives upgrades: the value already in the cluster's Secret when
there is one, else a new random alphanumeric string (URL-safe, so it needs no escaping).
It is memoised for the render, so the Secret and the checksum annotations of the pods that use
it see the same value even on a first install. Call with
(dict "ctx" $ "secret" "name" "key" "password" "length" 32).
*/}}
{{- define "resizeq.generatedValue" -}}
{{- $values := .ctx.Values }}
{{- if not (hasKey $values "__generated") }}
{{- $_ := set $values "__generated" dict }}
{{- end }}
{{- $cacheKey := printf "%s/%s" .secret .key }}
{{- if not (hasKey $values.__generated $cacheKey) }}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .secret }}
{{- $value := "" }}
{{- if and $existing $existing.data (hasKey $existing.data .key) }}
{{- $value = index $existing.data .key | b64dec }}
{{- else }}
{{- $value = randAlphaNum (int .length) }}
{{- end }}
{{- $_ := set $values.__generated $cacheKey $value }}
{{- end }}
{{- index $values.__generated $cacheKey }}
{{- end }}
