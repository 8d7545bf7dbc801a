{{/* The controller's pod template, shared by the Deployment and the DaemonSet. */}}
{{- define "ingress-controller.controller.podTemplate" -}}
metadata:
  {{- if .Values.controller.podAnnotations }}
  annotations:
    {{- range $key, $value := .Values.controller.podAnnotations }}
    {{ $key }}: {{ $value | quote }}
    {{- end }}
  {{- end }}
  labels:
    {{- include "ingress-controller.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: controller
    {{- with .Values.controller.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  dnsPolicy: ClusterFirst
  serviceAccountName: {{ include "ingress-controller.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
  terminationGracePeriodSeconds: 300
  containers:
    - name: controller
      image: {{ include "ingress-controller.image" .Values.controller.image | quote }}
      imagePullPolicy: {{ .Values.controller.image.pullPolicy }}
      lifecycle:
        preStop:
          exec:
            command: [/wait-shutdown]
      args:
        {{- include "ingress-controller.params" . | nindent 8 }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 101
        allowPrivilegeEscalation: false
        seccompProfile:
          type: RuntimeDefault
        capabilities:
          drop: [ALL]
          add: [NET_BIND_SERVICE]
      env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        - name: LD_PRELOAD
          value: /usr/local/lib/libmimalloc.so
        {{- if .Values.controller.extraEnvs }}
        {{- toYaml .Values.controller.extraEnvs | nindent 8 }}
        {{- end }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: {{ .Values.controller.metrics.port }}
          scheme: HTTP
        initialDelaySeconds: 10
        periodSeconds: 10
        timeoutSeconds: 1
        successThreshold: 1
        failureThreshold: 5
      readinessProbe:
        httpGet:
          path: /healthz
          port: {{ .Values.controller.metrics.port }}
          scheme: HTTP
        initialDelaySeconds: 10
        periodSeconds: 10
        failureThreshold: 3
      ports:
        {{- range $key, $value := .Values.controller.containerPort }}
        - name: {{ $key }}
          containerPort: {{ $value }}
          protocol: TCP
        {{- end }}
        {{- if .Values.controller.metrics.enabled }}
        - name: metrics
          containerPort: {{ .Values.controller.metrics.port }}
          protocol: TCP
        {{- end }}
        {{- range $key, $value := .Values.tcp }}
        - name: {{ $key }}-tcp
          containerPort: {{ $key }}
          protocol: TCP
        {{- end }}
        {{- range $key, $value := .Values.udp }}
        - name: {{ $key }}-udp
          containerPort: {{ $key }}
          protocol: UDP
        {{- end }}
      {{- with .Values.controller.resources }}
      resources: {{- toYaml . | nindent 8 }}
      {{- end }}
  {{- with .Values.controller.nodeSelector }}
  nodeSelector: {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.controller.tolerations }}
  tolerations: {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.controller.affinity }}
  affinity: {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.controller.topologySpreadConstraints }}
  topologySpreadConstraints: {{- tpl (toYaml .) $ | nindent 4 }}
  {{- end }}
{{- end -}}
