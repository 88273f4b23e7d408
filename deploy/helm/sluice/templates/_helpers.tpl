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
{{/* Store settings as env; credentials as files from the mounted Secrets (SLUICE_*_FILE), never env values. */}}
{{- define "sluice.storeEnv" -}}
- name: SLUICE_METADATA_URL
  value: "postgres://{{ .Values.stores.postgres.host }}:{{ .Values.stores.postgres.port }}/{{ .Values.stores.postgres.database }}"
- name: SLUICE_METADATA_SCHEMA
  value: {{ .Values.stores.postgres.schema | default "public" | quote }}
- name: SLUICE_METADATA_USER_FILE
  value: /var/run/secrets/sluice/postgresql/username
- name: SLUICE_METADATA_PASSWORD_FILE
  value: /var/run/secrets/sluice/postgresql/password
- name: SLUICE_KAFKA_BROKERS
  value: {{ join "," .Values.stores.kafka.brokers | quote }}
{{- with .Values.stores.kafka.topicPrefix }}
- name: SLUICE_KAFKA_TOPIC_PREFIX
  value: {{ . | quote }}
{{- end }}
{{- if .Values.stores.kafka.sasl.enabled }}
- name: SLUICE_KAFKA_SASL_MECHANISM
  value: {{ .Values.stores.kafka.sasl.mechanism | quote }}
- name: SLUICE_KAFKA_USERNAME_FILE
  value: /var/run/secrets/sluice/kafka/username
- name: SLUICE_KAFKA_PASSWORD_FILE
  value: /var/run/secrets/sluice/kafka/password
{{- end }}
- name: SLUICE_WAREHOUSE_URL
  value: {{ .Values.stores.clickhouse.url | quote }}
{{- if .Values.stores.clickhouse.existingSecret }}
- name: SLUICE_WAREHOUSE_USER_FILE
  value: /var/run/secrets/sluice/clickhouse/username
- name: SLUICE_WAREHOUSE_PASSWORD_FILE
  value: /var/run/secrets/sluice/clickhouse/password
{{- end }}
- name: SLUICE_S3_BUCKET
  value: {{ .Values.stores.s3.bucket | quote }}
- name: SLUICE_S3_REGION
  value: {{ .Values.stores.s3.region | quote }}
{{- with .Values.stores.s3.endpoint }}
- name: SLUICE_S3_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: AWS_ACCESS_KEY_ID_FILE
  value: /var/run/secrets/sluice/s3/accessKey
- name: AWS_SECRET_ACCESS_KEY_FILE
  value: /var/run/secrets/sluice/s3/secretKey
{{- end -}}
{{- define "sluice.secretMounts" -}}
- {name: postgresql-credentials, mountPath: /var/run/secrets/sluice/postgresql, readOnly: true}
{{- if .Values.stores.clickhouse.existingSecret }}
- {name: clickhouse-credentials, mountPath: /var/run/secrets/sluice/clickhouse, readOnly: true}
{{- end }}
- {name: s3-credentials, mountPath: /var/run/secrets/sluice/s3, readOnly: true}
{{- if .Values.stores.kafka.sasl.enabled }}
- {name: kafka-credentials, mountPath: /var/run/secrets/sluice/kafka, readOnly: true}
{{- end }}
{{- end -}}
{{- define "sluice.storeSecretVolumes" -}}
- name: postgresql-credentials
  secret: {secretName: {{ .Values.stores.postgres.existingSecret }}}
{{- if .Values.stores.clickhouse.existingSecret }}
- name: clickhouse-credentials
  secret: {secretName: {{ .Values.stores.clickhouse.existingSecret }}}
{{- end }}
- name: s3-credentials
  secret: {secretName: {{ .Values.stores.s3.existingSecret }}}
{{- end -}}
{{/* The Secrets to mount, with the control plane's Kafka user (also the migrate hook's and the test pod's). */}}
{{- define "sluice.secretVolumes" -}}
{{ include "sluice.storeSecretVolumes" . }}
{{- if .Values.stores.kafka.sasl.enabled }}
- name: kafka-credentials
  secret: {secretName: {{ .Values.stores.kafka.sasl.controlPlaneSecret }}}
{{- end }}
{{- end -}}
{{/* The same for warm workers, with their own Kafka user. */}}
{{- define "sluice.workerSecretVolumes" -}}
{{ include "sluice.storeSecretVolumes" . }}
{{- if .Values.stores.kafka.sasl.enabled }}
- name: kafka-credentials
  secret: {secretName: {{ .Values.stores.kafka.sasl.workerSecret }}}
{{- end }}
{{- end -}}

{{/* The config file and the credentials, as every pod of the chart that runs sluice mounts them. */}}
{{- define "sluice.configVolume" -}}
- name: config
  configMap: {name: {{ include "sluice.name" . }}-config}
{{- end -}}
