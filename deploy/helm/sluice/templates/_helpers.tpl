{{- define "sluice.name" -}}{{ .Release.Name }}{{- end -}}
{{- define "sluice.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{- end -}}
{{- define "sluice.labels" -}}
app.kubernetes.io/name: sluice
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
{{- define "sluice.selector" -}}
app.kubernetes.io/name: sluice
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{/* The restricted pod security profile, for every container of the chart. */}}
{{- define "sluice.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities: {drop: [ALL]}
seccompProfile: {type: RuntimeDefault}
{{- end -}}
{{- define "sluice.podSecurity" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile: {type: RuntimeDefault}
{{- end -}}
{{/* Store settings as env: secrets by reference only. */}}
{{- define "sluice.storeEnv" -}}
- name: SLUICE_CONFIG
  value: /etc/sluice/config.json
- name: PG_USER
  valueFrom: {secretKeyRef: {name: {{ .Values.stores.postgres.existingSecret }}, key: username}}
- name: PG_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ .Values.stores.postgres.existingSecret }}, key: password}}
- name: SLUICE_METADATA_URL
  value: "postgres://$(PG_USER):$(PG_PASSWORD)@{{ .Values.stores.postgres.host }}:{{ .Values.stores.postgres.port }}/{{ .Values.stores.postgres.database }}"
- name: SLUICE_KAFKA_BROKERS
  value: {{ join "," .Values.stores.kafka.brokers | quote }}
{{- with .Values.stores.kafka.topicPrefix }}
- name: SLUICE_KAFKA_TOPIC_PREFIX
  value: {{ . | quote }}
{{- end }}
- name: SLUICE_WAREHOUSE_URL
  value: {{ .Values.stores.clickhouse.url | quote }}
- name: SLUICE_S3_BUCKET
  value: {{ .Values.stores.s3.bucket | quote }}
- name: SLUICE_S3_REGION
  value: {{ .Values.stores.s3.region | quote }}
{{- with .Values.stores.s3.endpoint }}
- name: SLUICE_S3_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: AWS_ACCESS_KEY_ID
  valueFrom: {secretKeyRef: {name: {{ .Values.stores.s3.existingSecret }}, key: accessKey}}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom: {secretKeyRef: {name: {{ .Values.stores.s3.existingSecret }}, key: secretKey}}
{{- end -}}
