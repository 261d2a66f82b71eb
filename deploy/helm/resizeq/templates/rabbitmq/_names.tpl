{{- define "resizeq.rabbitmq.name" -}}
{{- include "resizeq.componentName" (dict "ctx" . "component" "rabbitmq") }}
{{- end }}

{{- define "resizeq.rabbitmq.headlessName" -}}
{{- printf "%s-headless" (include "resizeq.rabbitmq.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The vhost as it appears in a URL path: "/" is the default vhost, written %2F. */}}
{{- define "resizeq.rabbitmq.vhostPath" -}}
{{- if eq .Values.rabbitmq.auth.vhost "/" }}%2F{{ else }}{{ urlquery .Values.rabbitmq.auth.vhost }}{{ end }}
{{- end }}
