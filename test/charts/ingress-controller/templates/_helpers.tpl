{{- define "ingress-controller.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ingress-controller.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ingress-controller.controller.fullname" -}}
{{- printf "%s-%s" (include "ingress-controller.fullname" .) .Values.controller.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ingress-controller.defaultBackend.fullname" -}}
{{- printf "%s-%s" (include "ingress-controller.fullname" .) .Values.defaultBackend.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ingress-controller.controller.electionID" -}}
{{- $defElectionID := printf "%s-leader" (include "ingress-controller.fullname" .) -}}
{{- $electionID := default $defElectionID .Values.controller.electionID -}}
{{- print $electionID -}}
{{- end -}}

{{- define "ingress-controller.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ingress-controller.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/part-of: {{ template "ingress-controller.name" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- if .Values.commonLabels }}
{{ toYaml .Values.commonLabels }}
{{- end }}
{{- end -}}

{{- define "ingress-controller.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ingress-controller.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ingress-controller.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ default (include "ingress-controller.fullname" .) .Values.serviceAccount.name }}
{{- else -}}
{{ default "default" .Values.serviceAccount.name }}
{{- end -}}
{{- end -}}

{{/* registry/image:tag@digest */}}
{{- define "ingress-controller.image" -}}
{{- $img := printf "%s/%s:%s" .registry .image .tag -}}
{{- if .digest -}}
{{- $img = printf "%s@%s" $img .digest -}}
{{- end -}}
{{- $img -}}
{{- end -}}

{{/*
The controller's arguments: the chart's own, then extraArgs in key order; extraArgs may override
none of the chart's own (the controller would refuse a flag given twice).
*/}}
{{- define "ingress-controller.params" -}}
- /nginx-ingress-controller
{{- if .Values.defaultBackend.enabled }}
- --default-backend-service=$(POD_NAMESPACE)/{{ include "ingress-controller.defaultBackend.fullname" . }}
{{- end }}
{{- if .Values.controller.service.enabled }}
- --publish-service=$(POD_NAMESPACE)/{{ include "ingress-controller.controller.fullname" . }}
{{- end }}
- --election-id={{ include "ingress-controller.controller.electionID" . }}
- --controller-class={{ .Values.controller.ingressClassResource.controllerValue }}
{{- if .Values.controller.ingressClass }}
- --ingress-class={{ .Values.controller.ingressClass }}
{{- end }}
- --configmap=$(POD_NAMESPACE)/{{ include "ingress-controller.controller.fullname" . }}
{{- if .Values.tcp }}
- --tcp-services-configmap=$(POD_NAMESPACE)/{{ include "ingress-controller.fullname" . }}-tcp
{{- end }}
{{- if .Values.udp }}
- --udp-services-configmap=$(POD_NAMESPACE)/{{ include "ingress-controller.fullname" . }}-udp
{{- end }}
{{- if .Values.controller.watchIngressWithoutClass }}
- --watch-ingress-without-class=true
{{- end }}
{{- range $key, $value := .Values.controller.extraArgs }}
{{- $own := list "election-id" "controller-class" "configmap" "publish-service" }}
{{- if has $key $own }}
{{- fail (printf "controller.extraArgs.%s: set by the chart; the controller refuses a flag given twice" $key) }}
{{- end }}
{{- /* Accept keys with empty values as flags without a value. */}}
{{- if $value }}
- --{{ $key }}={{ tpl (toString $value) $ }}
{{- else }}
- --{{ $key }}
{{- end }}
{{- end }}
{{- end -}}
