{{/* vim: set filetype=mustache: */}}
{{/*
Expand the name of the chart.
*/}}
{{- define "webstack.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
A fully qualified app name, truncated at 63 characters because some Kubernetes name fields are
limited to this. If the release name contains the chart name it is used as the full name.
*/}}
{{- define "webstack.fullname" -}}
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

{{- define "webstack.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Standard labels, merged with .Values.commonLabels (which may use templates).
*/}}
{{- define "webstack.labels" -}}
{{- $default := dict "app.kubernetes.io/name" (include "webstack.name" .) "helm.sh/chart" (include "webstack.chart" .) "app.kubernetes.io/instance" .Release.Name "app.kubernetes.io/managed-by" .Release.Service -}}
{{- with .Chart.AppVersion -}}
{{- $_ := set $default "app.kubernetes.io/version" . -}}
{{- end -}}
{{- $custom := include "webstack.tplvalues.render" (dict "value" .Values.commonLabels "context" .) | fromYaml -}}
{{- toYaml (merge $custom $default) -}}
{{- end -}}

{{- define "webstack.selectorLabels" -}}
app.kubernetes.io/name: {{ include "webstack.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Renders a value that may contain templates: a string is rendered as it is, anything else as YAML.
Usage: {{ include "webstack.tplvalues.render" (dict "value" .Values.path "context" $) }}
*/}}
{{- define "webstack.tplvalues.render" -}}
{{- if typeIs "string" .value -}}
{{- tpl .value .context -}}
{{- else -}}
{{- tpl (.value | toYaml) .context -}}
{{- end -}}
{{- end -}}

{{/*
The image reference: global registry first, a digest wins over a tag.
*/}}
{{- define "webstack.image" -}}
{{- $registry := .Values.image.registry -}}
{{- if .Values.global.imageRegistry -}}
{{- $registry = .Values.global.imageRegistry -}}
{{- end -}}
{{- $sep := ":" -}}
{{- $ref := .Values.image.tag | default .Chart.AppVersion | toString -}}
{{- if .Values.image.digest -}}
{{- $sep = "@" -}}
{{- $ref = .Values.image.digest -}}
{{- end -}}
{{- if $registry -}}
{{- printf "%s/%s%s%s" $registry .Values.image.repository $sep $ref -}}
{{- else -}}
{{- printf "%s%s%s" .Values.image.repository $sep $ref -}}
{{- end -}}
{{- end -}}

{{- define "webstack.imagePullSecrets" -}}
{{- $secrets := .Values.global.imagePullSecrets -}}
{{- if $secrets }}
imagePullSecrets:
{{- range $secrets }}
  - name: {{ . | quote }}
{{- end }}
{{- end -}}
{{- end -}}

{{- define "webstack.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "webstack.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
API versions, chosen from what the cluster serves (helm template: --api-versions, --kube-version).
*/}}
{{- define "webstack.ingress.apiVersion" -}}
{{- if and (.Capabilities.APIVersions.Has "networking.k8s.io/v1") (semverCompare ">= 1.19-0" .Capabilities.KubeVersion.Version) -}}
networking.k8s.io/v1
{{- else if .Capabilities.APIVersions.Has "networking.k8s.io/v1beta1" -}}
networking.k8s.io/v1beta1
{{- else -}}
extensions/v1beta1
{{- end -}}
{{- end -}}

{{- define "webstack.ingress.supportsPathType" -}}
{{- if semverCompare "<1.18-0" .Capabilities.KubeVersion.Version -}}
false
{{- else -}}
true
{{- end -}}
{{- end -}}

{{- define "webstack.hpa.apiVersion" -}}
{{- if semverCompare "<1.23-0" .Capabilities.KubeVersion.Version -}}
autoscaling/v2beta2
{{- else -}}
autoscaling/v2
{{- end -}}
{{- end -}}

{{- define "webstack.pdb.apiVersion" -}}
{{- if semverCompare "<1.21-0" .Capabilities.KubeVersion.Version -}}
policy/v1beta1
{{- else -}}
policy/v1
{{- end -}}
{{- end -}}

{{/*
Pod anti-affinity presets (soft or hard), as public charts offer them.
*/}}
{{- define "webstack.affinity" -}}
{{- if .Values.affinity -}}
{{- include "webstack.tplvalues.render" (dict "value" .Values.affinity "context" .) -}}
{{- else if eq .Values.podAntiAffinityPreset "soft" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 1
      podAffinityTerm:
        labelSelector:
          matchLabels: {{- include "webstack.selectorLabels" . | nindent 12 }}
        topologyKey: kubernetes.io/hostname
{{- else if eq .Values.podAntiAffinityPreset "hard" -}}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - labelSelector:
        matchLabels: {{- include "webstack.selectorLabels" . | nindent 10 }}
      topologyKey: kubernetes.io/hostname
{{- end -}}
{{- end -}}

{{/*
A value check in the style of public charts: every problem found is reported at once.
*/}}
{{- define "webstack.validateValues" -}}
{{- $messages := list -}}
{{- if and .Values.autoscaling.enabled .Values.pdb.create (eq (int .Values.autoscaling.minReplicas) 1) (eq (toString .Values.pdb.minAvailable) "1") -}}
{{- $messages = append $messages "webstack: autoscaling.minReplicas=1 with pdb.minAvailable=1 blocks every node drain; raise minReplicas or use pdb.maxUnavailable" -}}
{{- end -}}
{{- if and .Values.ingress.enabled (not .Values.ingress.hostname) -}}
{{- $messages = append $messages "webstack: ingress.enabled needs ingress.hostname" -}}
{{- end -}}
{{- if $messages -}}
{{- printf "\nVALUES VALIDATION:\n%s" (join "\n" $messages) | fail -}}
{{- end -}}
{{- end -}}
