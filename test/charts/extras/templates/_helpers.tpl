{{- define "extras.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "extras.labels" -}}
{{- $labels := dict
    "app.kubernetes.io/name" .Chart.Name
    "app.kubernetes.io/instance" .Release.Name
    "app.kubernetes.io/managed-by" .Release.Service
    "app.kubernetes.io/version" .Chart.AppVersion
    "helm.sh/chart" (printf "%s-%s" .Chart.Name .Chart.Version) -}}
{{- range $k := keys $labels | sortAlpha }}
{{ $k }}: {{ get $labels $k | quote }}
{{- end }}
{{- end -}}

{{- define "extras.tplvalues.render" -}}
{{- if typeIs "string" .value }}
{{- tpl .value .context }}
{{- else }}
{{- tpl (.value | toYaml) .context }}
{{- end }}
{{- end -}}

{{/* Where this object was rendered from, as a label value (Helm's .Template of the caller). */}}
{{- define "extras.origin" -}}
{{- .Template.Name | trimPrefix (printf "%s/" .Template.BasePath) | replace "/" "." | replace "_" "-" | trunc 63 -}}
{{- end -}}
