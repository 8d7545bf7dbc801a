{{/*
Renders a value that contains template.
Usage: {{ include "common.tplvalues.render" (dict "value" .Values.path.to.value "context" $) }}
*/}}
{{- define "common.tplvalues.render" -}}
{{- $value := typeIs "string" .value | ternary .value (.value | toYaml) -}}
{{- if contains "{{" (toJson .value) -}}
{{- tpl $value .context -}}
{{- else -}}
{{- $value -}}
{{- end -}}
{{- end -}}

{{/* A checksum of a template of the calling chart. */}}
{{- define "common.utils.checksumTemplate" -}}
{{- $path := .path -}}
{{- include (print .context.Template.BasePath $path) .context | sha256sum -}}
{{- end -}}

{{/* Fails with every unset required value named. (dict "required" (list "a.b" ...) "context" $) */}}
{{- define "common.validations.required" -}}
{{- $missing := list -}}
{{- range .required -}}
{{- $value := $.context.Values -}}
{{- range splitList "." . -}}
{{- if kindIs "map" $value -}}
{{- $value = index $value . -}}
{{- else -}}
{{- $value = "" -}}
{{- end -}}
{{- end -}}
{{- if not $value -}}
{{- $missing = append $missing . -}}
{{- end -}}
{{- end -}}
{{- if $missing -}}
{{- fail (printf "missing required values: %s" (join ", " $missing)) -}}
{{- end -}}
{{- end -}}
