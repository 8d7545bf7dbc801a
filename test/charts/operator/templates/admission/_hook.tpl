{{/* The annotations every object of the certgen hook carries; (dict "context" $ "weight" "-5"). */}}
{{- define "operator.admission.hookAnnotations" -}}
"helm.sh/hook": {{ .hooks | default "pre-install,pre-upgrade,post-install,post-upgrade" }}
"helm.sh/hook-weight": {{ .weight | quote }}
"helm.sh/hook-delete-policy": {{ .deletePolicy | default "before-hook-creation,hook-succeeded" }}
{{- end }}
