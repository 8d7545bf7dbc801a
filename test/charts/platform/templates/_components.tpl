{{/*
The enabled components, as a sorted comma-separated list: a subchart's condition, when set,
wins over its tags (as Helm decides which subcharts to render).
*/}}
{{- define "platform.enabledBy" -}}
{{- if hasKey .values "enabled" -}}
{{- .values.enabled -}}
{{- else -}}
{{- .tag -}}
{{- end -}}
{{- end -}}

{{- define "platform.components" -}}
{{- $enabled := list -}}
{{- if .Values.api.enabled }}{{ $enabled = append $enabled "api" }}{{ end -}}
{{- if eq "true" (include "platform.enabledBy" (dict "values" .Values.worker "tag" .Values.tags.workers)) }}{{ $enabled = append $enabled "worker" }}{{ end -}}
{{- if .Values.cache.enabled }}{{ $enabled = append $enabled "cache" }}{{ end -}}
{{- if eq "true" (include "platform.enabledBy" (dict "values" .Values.metrics "tag" .Values.tags.monitoring)) }}{{ $enabled = append $enabled "metrics" }}{{ end -}}
{{- $enabled | sortAlpha | join "," -}}
{{- end -}}
