{{- define "common.labels.standard" -}}
{{- $labels := dict "app.kubernetes.io/name" (include "common.names.name" .) "helm.sh/chart" (printf "%s-%s" .Chart.Name .Chart.Version) "app.kubernetes.io/instance" .Release.Name "app.kubernetes.io/managed-by" .Release.Service -}}
{{- with .Chart.AppVersion }}
{{- $_ := set $labels "app.kubernetes.io/version" (. | toString) -}}
{{- end }}
{{- with .Values.global }}
{{- with .labels }}
{{- $labels = merge $labels . -}}
{{- end }}
{{- end }}
{{- toYaml $labels -}}
{{- end -}}

{{- define "common.labels.matchLabels" -}}
app.kubernetes.io/name: {{ include "common.names.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
