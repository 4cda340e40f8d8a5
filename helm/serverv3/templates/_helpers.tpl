{{/* Chart name, truncated to the 63 characters Kubernetes names allow. */}}
{{- define "serverv3.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, plus the chart name unless the release name contains it. */}}
{{- define "serverv3.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "serverv3.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "serverv3.selectorLabels" -}}
app.kubernetes.io/name: {{ include "serverv3.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "serverv3.labels" -}}
helm.sh/chart: {{ include "serverv3.chart" . }}
{{ include "serverv3.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: inference-server
app.kubernetes.io/part-of: serverv3
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "serverv3.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "serverv3.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "serverv3.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* The model directory the server is given (SERVERV3_MODEL); empty for the built-in demo model. */}}
{{- define "serverv3.modelPath" -}}
{{- if ne .Values.model.source "demo" }}
{{- printf "%s/%s" (trimSuffix "/" .Values.model.mountPath) .Values.model.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the API key, or empty when API keys are off. */}}
{{- define "serverv3.apiKeySecretName" -}}
{{- if .Values.apiKey.enabled }}
{{- default (printf "%s-api-key" (include "serverv3.fullname" .)) .Values.apiKey.existingSecret }}
{{- end }}
{{- end }}

{{/* Drain timeout in whole seconds, rounded up. */}}
{{- define "serverv3.drainSeconds" -}}
{{- .Values.server.drainTimeoutSeconds | float64 | ceil | int }}
{{- end }}

{{/*
terminationGracePeriodSeconds: the preStop sleep, then on SIGTERM the drain (streams may finish), then the rest
of Kestrel's shutdown timeout (the drain timeout + 10 s) and a margin for releasing the model.
*/}}
{{- define "serverv3.terminationGracePeriodSeconds" -}}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add (int .Values.lifecycle.preStopSleepSeconds) (include "serverv3.drainSeconds" . | int) 15 }}
{{- else }}
{{- .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
A value as an environment-variable string. YAML numbers reach templates as float64, which would print 4194304 as
4.194304e+06: whole numbers print as integers, everything else as written.
*/}}
{{- define "serverv3.envValue" -}}
{{- if and (kindIs "float64" .) (eq (float64 (int64 .)) .) }}
{{- int64 . }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/* Checks what the schema cannot express; fails the render with a message naming the value to set. */}}
{{- define "serverv3.validate" -}}
{{- $m := .Values.model }}
{{- if and (ne $m.source "demo") (not $m.name) }}
{{- fail (printf "model.name is required with model.source=%s: the checkpoint directory under %s (it becomes the served model name)" $m.source $m.mountPath) }}
{{- end }}
{{- if and (eq $m.source "pvc") (not $m.pvc.existingClaim) (not $m.pvc.create) }}
{{- fail "model.source=pvc needs model.pvc.existingClaim, or model.pvc.create=true" }}
{{- end }}
{{- if and (eq $m.source "hostPath") (not $m.hostPath.path) }}
{{- fail "model.source=hostPath needs model.hostPath.path" }}
{{- end }}
{{- if and (eq $m.source "image") (not $m.image.repository) }}
{{- fail "model.source=image needs model.image.repository (an image with the checkpoint under model.image.path, and sh and cp)" }}
{{- end }}
{{- if and .Values.apiKey.enabled (not .Values.apiKey.existingSecret) (not .Values.apiKey.value) }}
{{- fail "apiKey.enabled needs apiKey.existingSecret (a Secret with the key under apiKey.secretKey) or apiKey.value" }}
{{- end }}
{{- end }}

{{/* An emptyDir source from a value with optional medium and sizeLimit ({} when neither is set). */}}
{{- define "serverv3.emptyDir" -}}
{{- $dir := dict }}
{{- with .medium }}{{ $_ := set $dir "medium" . }}{{ end }}
{{- with .sizeLimit }}{{ $_ := set $dir "sizeLimit" . }}{{ end }}
{{- toYaml $dir }}
{{- end }}
