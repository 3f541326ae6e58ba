{{/*
Helpers of stagehand's reference service chart. Most take a dict:
  root  - the top-level context ($)
  track - "production" | "canary"
*/}}

{{/* The service name: every object name derives from it, never from .Release.Name. */}}
{{- define "service.fullname" -}}
{{- required "fullnameOverride (the service name) is required" .Values.fullnameOverride -}}
{{- end -}}

{{/* Name of a track's objects: <fullname>-<track>. */}}
{{- define "service.trackName" -}}
{{- printf "%s-%s" (include "service.fullname" .root) .track -}}
{{- end -}}

{{- define "service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
A string made safe as a label value: characters other than [A-Za-z0-9_.-] become "-" (so a digest
"sha256:abc..." becomes "sha256-abc..."), at most 63 characters, starting and ending alphanumeric.
*/}}
{{- define "service.labelValue" -}}
{{- $v := regexReplaceAll "[^A-Za-z0-9_.-]" (toString .) "-" | trunc 63 | trimAll "-_." -}}
{{- if $v }}{{ $v }}{{ else }}none{{ end -}}
{{- end -}}

{{/* The image of a track: repo:tag, or repo@sha256:... for a digest. */}}
{{- define "service.image" -}}
{{- $tag := toString (index .root.Values.tracks .track).tag -}}
{{- $repo := required "image.repository is required" .root.Values.image.repository -}}
{{- if hasPrefix "sha256:" $tag -}}
{{- printf "%s@%s" $repo $tag -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{/* Labels that select every pod of the service (both tracks). Immutable across releases. */}}
{{- define "service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "service.fullname" . }}
app.kubernetes.io/instance: {{ include "service.fullname" . }}
{{- end -}}

{{/* Labels that select the pods of one track (Deployment and PDB selectors). Immutable across releases. */}}
{{- define "service.trackSelectorLabels" -}}
{{ include "service.selectorLabels" .root }}
track: {{ .track }}
{{- end -}}

{{/*
Common labels of every object. app.kubernetes.io/instance is the fullname too, because several Helm
releases make up one service. `app` is what Istio telemetry reads.
*/}}
{{- define "service.labels" -}}
{{ include "service.selectorLabels" . }}
app: {{ include "service.fullname" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: stagehand
helm.sh/chart: {{ include "service.chart" . }}
{{- end -}}

{{/* Labels of a track's objects: common labels + track + version (the track's tag, label-safe). */}}
{{- define "service.trackLabels" -}}
{{- $t := index .root.Values.tracks .track -}}
{{ include "service.labels" .root }}
app.kubernetes.io/version: {{ include "service.labelValue" $t.tag | quote }}
track: {{ .track }}
version: {{ include "service.labelValue" $t.tag | quote }}
{{- end -}}

{{/*
Labels of a track's pods. No helm.sh/chart here: a chart upgrade alone must not restart every pod.
podLabels come first so they can never override the labels the chart selects on.
*/}}
{{- define "service.podLabels" -}}
{{- $t := index .root.Values.tracks .track -}}
{{- $own := dict
  "app.kubernetes.io/name" (include "service.fullname" .root)
  "app.kubernetes.io/instance" (include "service.fullname" .root)
  "app.kubernetes.io/managed-by" .root.Release.Service
  "app.kubernetes.io/part-of" "stagehand"
  "app.kubernetes.io/version" (include "service.labelValue" $t.tag)
  "app" (include "service.fullname" .root)
  "track" .track
  "version" (include "service.labelValue" $t.tag)
  "sidecar.istio.io/inject" "true" -}}
{{- $labels := merge $own (deepCopy (.root.Values.podLabels | default dict)) -}}
{{- toYaml $labels -}}
{{- end -}}

{{/* stagehand.dev/* annotations: the stage this release belongs to (metadata only, never pod templates). */}}
{{- define "service.annotations" -}}
{{- with .Values.stagehand -}}
stagehand.dev/stage: {{ .stage | int | toString | quote }}
stagehand.dev/stage-count: {{ .stageCount | int | toString | quote }}
stagehand.dev/stage-name: {{ .stageName | toString | quote }}
stagehand.dev/strategy: {{ .strategy | toString | quote }}
{{- with .description }}
stagehand.dev/description: {{ . | toString | quote }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* In-mesh FQDN of the service, the host of the DestinationRule and of every route destination. */}}
{{- define "service.host" -}}
{{- printf "%s.%s.svc.cluster.local" (include "service.fullname" .) .Release.Namespace -}}
{{- end -}}

{{- define "service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "service.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Replicas of a track, as an int. */}}
{{- define "service.replicas" -}}
{{- (index .root.Values.tracks .track).replicas | int -}}
{{- end -}}

{{/* "true" when the track's HPA is rendered: autoscaling enabled and replicas > 0. */}}
{{- define "service.hpaEnabled" -}}
{{- $a := index .root.Values.autoscaling .track -}}
{{- if and $a.enabled (gt (include "service.replicas" . | int) 0) -}}true{{- end -}}
{{- end -}}

{{/*
Guard rails beyond the schema. What needs the whole plan — weights adding up to 100, no weight, mirror or
header match towards a track without pods — is checked only when this release renders every part (its values
then describe the whole service). Split into one release per part, each release carries only its own part's
values, and stagehand checks the whole plan before registering anything (program, `npm run plan`, policy pack).
*/}}
{{- define "service.validate" -}}
{{- if and .Values.parts.production .Values.parts.canary .Values.parts.routing -}}
{{- $p := .Values.tracks.production -}}
{{- $c := .Values.tracks.canary -}}
{{- $sum := add ($p.weight | int) ($c.weight | int) -}}
{{- if ne (int $sum) 100 -}}
{{- fail (printf "tracks.production.weight (%d) + tracks.canary.weight (%d) = %d: the weights must add up to 100" ($p.weight | int) ($c.weight | int) (int $sum)) -}}
{{- end -}}
{{- range $track := list "production" "canary" -}}
{{- $t := index $.Values.tracks $track -}}
{{- if and (gt ($t.weight | int) 0) (eq ($t.replicas | int) 0) -}}
{{- fail (printf "refusing to route %d%% to track %s which has 0 replicas (tracks.%s.weight=%d, tracks.%s.replicas=0)" ($t.weight | int) $track $track ($t.weight | int) $track) -}}
{{- end -}}
{{- end -}}
{{- if eq ($c.replicas | int) 0 -}}
{{- if and (gt (.Values.routing.mirrorPercent | int) 0) (lt ($c.weight | int) 100) -}}
{{- fail (printf "refusing to mirror %d%% of requests to track canary which has 0 replicas (routing.mirrorPercent=%d, tracks.canary.replicas=0)" (.Values.routing.mirrorPercent | int) (.Values.routing.mirrorPercent | int)) -}}
{{- end -}}
{{- if .Values.routing.canaryMatches -}}
{{- fail "refusing to route requests matching routing.canaryMatches to track canary which has 0 replicas (tracks.canary.replicas=0)" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $drain := .Values.drainSeconds | int -}}
{{- if and (gt $drain 0) (ge $drain (.Values.terminationGracePeriodSeconds | int)) -}}
{{- fail (printf "drainSeconds (%d) must be less than terminationGracePeriodSeconds (%d), or the preStop sleep eats the whole grace period" $drain (.Values.terminationGracePeriodSeconds | int)) -}}
{{- end -}}
{{- end -}}

{{/* Options shared by every http route: timeout and retries. */}}
{{- define "service.routeOptions" -}}
{{- with .Values.istio.timeout }}
timeout: {{ . | quote }}
{{- end }}
{{- with .Values.istio.retries }}
retries:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
Labels of a Job and its pods (dict: root, job). Never the service's selector labels: the service's Service,
DestinationRule subsets and AuthorizationPolicy select on app.kubernetes.io/name + instance, and a Job's pod must not
become one of the service's endpoints. app.kubernetes.io/instance is the service, name the Job's own.
*/}}
{{- define "service.jobLabels" -}}
app.kubernetes.io/name: {{ printf "%s-%s" (include "service.fullname" .root) .job }}
app.kubernetes.io/instance: {{ include "service.fullname" .root }}
app.kubernetes.io/component: {{ .job }}
app.kubernetes.io/part-of: stagehand
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app: {{ printf "%s-%s" (include "service.fullname" .root) .job }}
{{- end -}}

{{/* A Job's hook annotations and what it runs for (dict: root, job, spec): the revision and the run. */}}
{{- define "service.jobAnnotations" -}}
helm.sh/hook: post-install,post-upgrade
helm.sh/hook-delete-policy: before-hook-creation
stagehand.dev/revision: {{ .spec.revision | toString | quote }}
stagehand.dev/run: {{ .spec.run | toString | quote }}
{{- end -}}

{{/* The spec of a Job up to its containers (dict: root, job, spec, serviceAccount). */}}
{{- define "service.jobSpec" -}}
backoffLimit: 0
activeDeadlineSeconds: {{ .spec.timeoutSeconds | int }}
ttlSecondsAfterFinished: {{ .root.Values.jobs.ttlSecondsAfterFinished | int }}
template:
  metadata:
    labels:
      {{- include "service.jobLabels" . | nindent 6 }}
      sidecar.istio.io/inject: "true"
    annotations:
      sidecar.istio.io/nativeSidecar: "true"
      stagehand.dev/revision: {{ .spec.revision | toString | quote }}
      stagehand.dev/run: {{ .spec.run | toString | quote }}
  spec:
    restartPolicy: Never
    serviceAccountName: {{ .serviceAccount }}
    automountServiceAccountToken: false
    {{- with .root.Values.podSecurityContext }}
    securityContext:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    volumes:
      - name: tmp
        emptyDir: {}
    {{- with .root.Values.nodeSelector }}
    nodeSelector:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    {{- with .root.Values.tolerations }}
    tolerations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
{{- end -}}

{{/* What every Job container has after its env (dict: root, resources): resources, the restricted security context, /tmp. */}}
{{- define "service.jobContainer" -}}
{{- with .resources -}}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.containerSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end -}}

{{/* The canary's address for a smoke test: its canary-only Service, on the service port. */}}
{{- define "service.smokeTargetEnv" -}}
- name: SMOKE_TARGET_URL
  value: {{ printf "http://%s.%s.svc.cluster.local:%d" (include "service.trackName" (dict "root" . "track" "canary")) .Release.Namespace (.Values.service.port | int) | quote }}
- name: SMOKE_REVISION
  value: {{ .Values.jobs.smoke.revision | toString | quote }}
{{- end -}}
