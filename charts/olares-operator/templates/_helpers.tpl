{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "olares-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects. */}}
{{- define "olares-operator.fullname" -}}
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

{{- define "olares-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "olares-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "olares-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "olares-operator.labels" -}}
helm.sh/chart: {{ include "olares-operator.chart" . }}
{{ include "olares-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: olares
{{- end }}

{{- define "olares-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "olares-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image reference: repository@digest when a digest is set, else repository:tag (tag defaults to appVersion). */}}
{{- define "olares-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The ServiceAccount helm impersonates to install the Olares release. */}}
{{- define "olares-operator.installerName" -}}
{{- printf "%s-installer" (include "olares-operator.fullname" . | trunc 53 | trimSuffix "-") }}
{{- end }}

{{/* The Service the node agents fetch an airgap release's files from (the leader serves them). */}}
{{- define "olares-operator.releaseFilesName" -}}
{{- printf "%s-release-files" (include "olares-operator.fullname" . | trunc 49 | trimSuffix "-") }}
{{- end }}

{{/* The URL the node agents reach it at (they resolve cluster names: ClusterFirstWithHostNet). */}}
{{- define "olares-operator.releaseFilesUrl" -}}
{{- if .Values.release.files.url }}
{{- .Values.release.files.url }}
{{- else }}
{{- printf "http://%s.%s.svc:%v" (include "olares-operator.releaseFilesName" .) .Release.Namespace .Values.release.files.port }}
{{- end }}
{{- end }}
