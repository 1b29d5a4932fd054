{{/* Chart name, overridable. */}}
{{- define "mfa-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every resource name: the release name, unless it already contains the chart name. */}}
{{- define "mfa-operator.fullname" -}}
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

{{- define "mfa-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mfa-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mfa-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "mfa-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels of the controller's own objects (Deployment, pods, Services). */}}
{{- define "mfa-operator.controllerSelectorLabels" -}}
{{ include "mfa-operator.selectorLabels" . }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "mfa-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-controller-manager" (include "mfa-operator.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest is pinned. Arguments: (list image .Chart.AppVersion). */}}
{{- define "mfa-operator.imageReference" -}}
{{- $image := index . 0 }}
{{- $appVersion := index . 1 }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default $appVersion $image.tag) }}
{{- end }}
{{- end }}

{{- define "mfa-operator.image" -}}
{{- include "mfa-operator.imageReference" (list .Values.image .Chart.AppVersion) }}
{{- end }}

{{/* The runner uses the operator image unless runner.image.repository names another. */}}
{{- define "mfa-operator.runnerImage" -}}
{{- if .Values.runner.image.repository }}
{{- include "mfa-operator.imageReference" (list .Values.runner.image .Chart.AppVersion) }}
{{- else }}
{{- include "mfa-operator.image" . }}
{{- end }}
{{- end }}

{{- define "mfa-operator.leaseName" -}}
{{- default (printf "%s-leader" (include "mfa-operator.fullname" .)) .Values.leaderElection.leaseName }}
{{- end }}

{{/* Prometheus Operator objects are rendered only when asked for and when the cluster serves their API. */}}
{{- define "mfa-operator.monitoringApiServed" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}true{{ end }}
{{- end }}

{{/* The runner settings file the operator reads with --runner-config (operator/automation/runner-settings.ts). */}}
{{- define "mfa-operator.runnerConfig" -}}
{{- $runner := .Values.runner }}
{{- dict
  "image" (include "mfa-operator.runnerImage" .)
  "imagePullPolicy" $runner.image.pullPolicy
  "command" $runner.command
  "workingDir" $runner.workingDir
  "resources" $runner.resources
  "activeDeadlineSeconds" $runner.activeDeadlineSeconds
  "ttlSecondsAfterFinished" $runner.ttlSecondsAfterFinished
  "maxConcurrentRuns" $runner.maxConcurrentRuns
  "maxConcurrentRunsPerConnector" $runner.maxConcurrentRunsPerConnector
  "maxAttempts" $runner.maxAttempts
  "retryBaseSeconds" $runner.retryBaseSeconds
  "retryMaxSeconds" $runner.retryMaxSeconds
  "nodeSelector" $runner.nodeSelector
  "tolerations" $runner.tolerations
  | toYaml }}
{{- end }}

{{/* The code service's TLS Secret: the one named in values, else the one the chart creates. */}}
{{- define "mfa-operator.codeServiceTlsSecret" -}}
{{- .Values.codeService.tls.secretName | default (printf "%s-code-service-tls" (include "mfa-operator.fullname" .)) }}
{{- end }}

{{/* Where run pods reach the code service: its Service's cluster DNS name, or its fixed ClusterIP when one is set. */}}
{{- define "mfa-operator.codeServiceRunUrl" -}}
{{- with .Values.codeService.service.clusterIP }}
{{- printf "https://%s:%v" . $.Values.codeService.service.port }}
{{- else }}
{{- printf "https://%s-code-service.%s.svc:%v" (include "mfa-operator.fullname" .) .Release.Namespace .Values.codeService.service.port }}
{{- end }}
{{- end }}

{{/*
The APIService for codes.mfa-operator.io/v1alpha1, pointing at the code service's Service. Its own group: an
APIService for mfa-operator.io/v1alpha1 would take every request for that group from the CRDs.
*/}}
{{- define "mfa-operator.apiService" -}}
{{- $root := .root -}}
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1alpha1.codes.mfa-operator.io
  labels:
    {{- include "mfa-operator.labels" $root | nindent 4 }}
    app.kubernetes.io/component: controller
  {{- with $root.Values.codeService.aggregatedApi.injectCaFrom }}
  annotations:
    cert-manager.io/inject-ca-from: {{ . }}
  {{- end }}
spec:
  group: codes.mfa-operator.io
  version: v1alpha1
  groupPriorityMinimum: 1000
  versionPriority: 15
  service:
    namespace: {{ $root.Release.Namespace }}
    name: {{ include "mfa-operator.fullname" $root }}-code-service
    port: {{ $root.Values.codeService.aggregatedApi.port }}
  {{- with .caBundle }}
  caBundle: {{ . }}
  {{- end }}
{{- end }}
