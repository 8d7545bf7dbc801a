{{- define "migrations.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "migrations.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "migrations.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Hook annotations: (dict "hook" "pre-install,pre-upgrade" "weight" -5 "delete" (list ...)) */}}
{{- define "migrations.hook" -}}
helm.sh/hook: {{ .hook }}
helm.sh/hook-weight: {{ .weight | default 0 | quote }}
{{- with .delete }}
helm.sh/hook-delete-policy: {{ . | uniq | join "," }}
{{- end }}
{{- end -}}
