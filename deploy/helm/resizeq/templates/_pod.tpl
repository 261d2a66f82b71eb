{{/*
Pieces the API and consumer pods share. Call with (dict "ctx" $ "component" "api").
*/}}

{{/* Pod annotations that roll the pods when their configuration or credentials change. */}}
{{- define "resizeq.appPodAnnotations" -}}
checksum/config: {{ include (print .ctx.Template.BasePath "/configmap.yaml") .ctx | sha256sum }}
{{- $secrets := "" }}
{{- if and .ctx.Values.rabbitmq.enabled (not .ctx.Values.rabbitmq.auth.existingSecret) }}
{{- $secrets = print $secrets (include (print .ctx.Template.BasePath "/rabbitmq/secret.yaml") .ctx) }}
{{- end }}
{{- if and .ctx.Values.apiKeys.enabled (not .ctx.Values.apiKeys.existingSecret) (eq .component "api") }}
{{- $secrets = print $secrets (include (print .ctx.Template.BasePath "/api-keys-secret.yaml") .ctx) }}
{{- end }}
{{- if $secrets }}
checksum/secret: {{ $secrets | sha256sum }}
{{- end }}
{{- end }}

{{/* Environment both apps get: settings from the ConfigMap, the broker URL from its Secret. */}}
{{- define "resizeq.appEnv" -}}
envFrom:
  - configMapRef:
      name: {{ include "resizeq.configMapName" .ctx }}
env:
  - name: AMQP_URL
    valueFrom:
      secretKeyRef:
        name: {{ include "resizeq.brokerSecretName" .ctx }}
        key: {{ include "resizeq.brokerAmqpUrlKey" .ctx }}
{{- end }}

{{/* Pod-level settings both apps share. */}}
{{- define "resizeq.appPodSpec" -}}
serviceAccountName: {{ include "resizeq.serviceAccountName" .ctx }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .ctx.Values.podSecurityContext | nindent 2 }}
{{- end }}
