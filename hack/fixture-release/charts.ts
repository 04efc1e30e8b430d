// The fixture release's charts: small charts of our own, one per real wizard chart dir, that read the
// same values keys the installer passes (a missing key fails the render, naming it) and create
// workloads named like the real components. File contents only; fixture-release.ts writes them.
import {
  FIXTURE_APPS,
  HAMI_WORKLOADS,
  LAUNCHER_WORKLOADS,
  OS_FRAMEWORK_WORKLOADS,
  OS_PLATFORM_WORKLOADS,
  imageOf,
  type FixtureWorkload,
} from "./components.js";

export type Files = Record<string, string>;

function chartYaml(name: string, version: string, description: string): string {
  return `apiVersion: v2\nname: ${name}\ndescription: "${description} (olares-operator fixture release, not the real chart)"\ntype: application\nversion: ${version}\nappVersion: "${version}"\n`;
}

/** `fail` unless the dotted key is present (hasKey, so "" and false count as given, as the installer may pass them). */
function requireKeys(keys: readonly string[]): string {
  return keys
    .map((key) => {
      const parts = key.split(".");
      let expr = ".Values";
      const checks: string[] = [];
      for (const p of parts) {
        checks.push(`(hasKey (${expr} | default dict) "${p}")`);
        expr = `(${expr} | default dict).${p}`;
      }
      // and-chain short-circuits in Helm 3.17+/4 templates only for plain values; nest ifs to be safe.
      const opens = checks.map((c) => `{{- if ${c} }}`).join("");
      const closes = checks.map(() => "{{- end }}").join("");
      return `{{- $ok := false }}${opens}{{- $ok = true }}${closes}\n{{- if not $ok }}{{ fail "values: ${key} is required (olares-cli passes it)" }}{{ end }}`;
    })
    .join("\n");
}

/** A ConfigMap echoing every installer key, so a test can read back what the chart received. */
function valuesEcho(chart: string, keys: readonly string[]): string {
  const data = keys.map((k) => `  ${k.replace(/[^A-Za-z0-9_.-]/g, "_")}: {{ .Values.${k.split(".").join(".")} | toJson | quote }}`).join("\n");
  return `${requireKeys(keys)}
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${chart}-values
  namespace: {{ .Release.Namespace }}
  labels:
    app.kubernetes.io/part-of: olares
data:
${data}
`;
}

function workload(w: FixtureWorkload, version: string, extra: { annotations?: string; env?: string } = {}): string {
  const ns = w.namespace ?? "{{ .Release.Namespace }}";
  const labels = `app: ${w.name}${w.tier ? `\n        tier: ${w.tier}` : ""}`;
  const nodeSelector = w.nodeSelector
    ? `      nodeSelector:\n${Object.entries(w.nodeSelector).map(([k, v]) => `        ${k}: "${v}"`).join("\n")}\n`
    : "";
  const replicas = w.kind === "DaemonSet" ? "" : "  replicas: 1\n";
  const serviceName = w.kind === "StatefulSet" ? `  serviceName: ${w.name}\n` : "";
  return `apiVersion: apps/v1
kind: ${w.kind}
metadata:
  name: ${w.name}
  namespace: ${ns}
  labels:
    app: ${w.name}
    app.kubernetes.io/part-of: olares
${extra.annotations ? `  annotations:\n${extra.annotations}\n` : ""}spec:
${replicas}${serviceName}  selector:
    matchLabels:
      app: ${w.name}
  template:
    metadata:
      labels:
        ${labels}
    spec:
${nodeSelector}      containers:
        - name: ${w.name}
          image: ${imageOf(w.name, version)}
          imagePullPolicy: IfNotPresent
${extra.env ? `          env:\n${extra.env}\n` : ""}`;
}

function workloads(list: readonly FixtureWorkload[], version: string, env?: string): Files {
  return Object.fromEntries(list.map((w) => [`templates/deploy/${w.name}.yaml`, workload(w, version, { env })]));
}

function namespaceDoc(name: string): string {
  return `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels:\n    app.kubernetes.io/part-of: olares\n`;
}

// --- account: iam.kubesphere.io User of the owner (account.go@0ed7b74b) -------------------------------
export const ACCOUNT_KEYS = ["user.name", "user.password", "user.email", "user.terminus_name"] as const;

const USER_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: users.iam.kubesphere.io
spec:
  group: iam.kubesphere.io
  names: {kind: User, listKind: UserList, plural: users, singular: user}
  scope: Cluster
  versions:
    - name: v1alpha2
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`;

function accountChart(version: string): Files {
  return {
    "Chart.yaml": chartYaml("account", version, "The Olares owner's User"),
    "values.yaml": "user:\n  name: ''\n  password: ''\n  email: ''\n  terminus_name: ''\n",
    // The User CRD comes with KubeSphere (the K3s phase) on a real install; the fixture ships it in crds/
    // (Helm skips a CRD that exists) so a bare cluster can take the release.
    "crds/iam.kubesphere.io_users.yaml": USER_CRD,
    "templates/values.yaml": valuesEcho("account", ACCOUNT_KEYS),
    "templates/user.yaml": `apiVersion: iam.kubesphere.io/v1alpha2
kind: User
metadata:
  name: {{ required "values: user.name is required" .Values.user.name }}
  annotations:
    helm.sh/resource-policy: keep
    iam.kubesphere.io/uninitialized: "true"
    bytetrade.io/owner-role: owner
    bytetrade.io/terminus-name: {{ .Values.user.terminus_name | quote }}
    bytetrade.io/launcher-auth-policy: two_factor
    bytetrade.io/launcher-access-level: "1"
    iam.kubesphere.io/sync-to-lldap: "true"
    iam.kubesphere.io/synced-to-lldap: "false"
    iam.kubesphere.io/user-provider: lldap
    iam.kubesphere.io/globalrole: platform-admin
{{- if .Values.nat_gateway_ip }}
    bytetrade.io/nat-gateway-ip: {{ .Values.nat_gateway_ip | quote }}
{{- end }}
spec:
  email: {{ .Values.user.email | quote }}
  initialPassword: {{ required "values: user.password is required" .Values.user.password | quote }}
`,
  };
}

// --- settings: Terminus CR + cluster CRDs (settings.go@bd5026e0, templates/settings.go@bd5026e0) -----
export const SETTINGS_KEYS = ["cluster_id", "s3_sts", "s3_ak", "s3_sk", "domainName", "selfHosted", "terminusd"] as const;

const TERMINUS_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: terminus.sys.bytetrade.io
spec:
  group: sys.bytetrade.io
  names: {kind: Terminus, listKind: TerminusList, plural: terminus, singular: terminus}
  scope: Cluster
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`;

const SYSTEMENV_CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: systemenvs.sys.bytetrade.io
spec:
  group: sys.bytetrade.io
  names: {kind: SystemEnv, listKind: SystemEnvList, plural: systemenvs, singular: systemenv, shortNames: [sysenv]}
  scope: Cluster
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          required: [envName]
          x-kubernetes-preserve-unknown-fields: true
          properties:
            envName: {type: string}
`;

function settingsChart(version: string): Files {
  return {
    "Chart.yaml": chartYaml("settings", version, "Olares cluster settings: the Terminus object and the cluster CRDs"),
    "values.yaml": "cluster_id: ''\ns3_sts: none\ns3_ak: none\ns3_sk: none\ndomainName: ''\nselfHosted: 'false'\nterminusd: '1'\n",
    // The real chart renders its CRDs from templates/crds/; Helm cannot map a CR whose CRD is in the same
    // template set on a first install, so the fixture ships them in crds/ (installed first by Helm).
    "crds/sys.bytetrade.io_terminus.yaml": TERMINUS_CRD,
    "crds/sys.bytetrade.io_systemenvs.yaml": SYSTEMENV_CRD,
    "templates/values.yaml": valuesEcho("settings", SETTINGS_KEYS),
    "templates/terminus_cr.yaml": `{{- $existing := lookup "sys.bytetrade.io/v1alpha1" "Terminus" "" "terminus" }}
{{- $clusterId := .Values.cluster_id }}
{{- $version := "${version}" }}
{{- if $existing }}
{{- $clusterId = index $existing.metadata.annotations "bytetrade.io/cluster-id" | default $clusterId }}
{{- $version = $existing.spec.version | default $version }}
{{- end }}
{{- if not $clusterId }}{{ $clusterId = randAlphaNum 16 }}{{ end }}
{{- if .Values.version }}{{ $version = .Values.version }}{{ end }}
apiVersion: sys.bytetrade.io/v1alpha1
kind: Terminus
metadata:
  name: terminus
  annotations:
    bytetrade.io/cluster-id: {{ $clusterId | quote }}
    bytetrade.io/s3-sts: {{ .Values.s3_sts | quote }}
    bytetrade.io/s3-ak: {{ .Values.s3_ak | quote }}
    bytetrade.io/s3-sk: {{ .Values.s3_sk | quote }}
spec:
  version: {{ $version | quote }}
  settings:
    domainName: {{ .Values.domainName | quote }}
    selfHosted: {{ .Values.selfHosted | quote }}
    terminusd: {{ .Values.terminusd | quote }}
`,
    "templates/namespaces.yaml": [namespaceDoc("os-platform"), namespaceDoc("os-framework")].join("---\n"),
  };
}

// --- os-platform / os-framework: one template, two dirs (ossystem.go@56aaf78b InstallOsSystem) --------
export const OS_SYSTEM_KEYS = ["backup.bucket", "backup.key_prefix", "backup.is_cloud_version", "backup.sync_secret", "gpu", "s3_bucket", "fs_type", "rootPath", "sharedlib"] as const;

const OS_ENV = `            - name: OLARES_ROOT_DIR
              value: {{ .Values.rootPath | quote }}
            - name: OLARES_FS_TYPE
              value: {{ .Values.fs_type | quote }}`;

function osChart(name: "os-platform" | "os-framework", version: string): Files {
  const files: Files = {
    "Chart.yaml": chartYaml(name, version, name === "os-platform" ? "Olares platform middleware" : "Olares framework services"),
    "values.yaml": "backup:\n  bucket: ''\n  key_prefix: ''\n  is_cloud_version: ''\n  sync_secret: ''\ngpu: none\ns3_bucket: ''\nfs_type: fs\nrootPath: /olares\nsharedlib: /olares/share\n",
    "templates/values.yaml": valuesEcho(name, OS_SYSTEM_KEYS),
    ...workloads(name === "os-platform" ? OS_PLATFORM_WORKLOADS : OS_FRAMEWORK_WORKLOADS, version, OS_ENV),
  };
  if (name === "os-framework") {
    // appservice_deploy.yaml@0540e04d keeps its NATS password across upgrades through lookup.
    files["templates/deploy/app-service-nats-secret.yaml"] = `{{- $s := lookup "v1" "Secret" "os-framework" "app-service-nats-secret" }}
apiVersion: v1
kind: Secret
metadata:
  name: app-service-nats-secret
  namespace: os-framework
type: Opaque
data:
  nats_password: {{ if $s }}{{ index $s.data "nats_password" }}{{ else }}{{ randAlphaNum 16 | b64enc }}{{ end }}
`;
  }
  return files;
}

// --- launcher: bfl per user (launcher.go@df5b0859; bfl_deploy.yaml@073faf4e has no lookup) -----------
export const LAUNCHER_KEYS = ["bfl.nodeport", "bfl.nodeport_ingress_http", "bfl.nodeport_ingress_https", "bfl.username", "bfl.admin_user", "bfl.appKey", "bfl.appSecret", "rootPath"] as const;

function launcherChart(version: string): Files {
  const bfl = LAUNCHER_WORKLOADS[0]!;
  const rest = LAUNCHER_WORKLOADS.slice(1);
  const rand = (k: string) => `{{- $${k} := .Values.bfl.${k}_rand16 | default (randAlphaNum 16 | lower) }}`;
  const bflAnnotations = [
    `    userspace_rand16: {{ $userspace | quote }}`,
    `    appcache_rand16: {{ $appcache | quote }}`,
    `    dbdata_rand16: {{ $dbdata | quote }}`,
    `    userspace_pv: {{ printf "pv-userspace-%s-%s" .Values.bfl.username $userspace | quote }}`,
    `    userspace_pvc: {{ printf "pvc-userspace-%s-%s" .Values.bfl.username $userspace | quote }}`,
    `    userspace_hostpath: {{ printf "%s/rootfs/userspace/pvc-userspace-%s-%s" .Values.rootPath .Values.bfl.username $userspace | quote }}`,
    `    appcache_pv: {{ printf "pv-appcache-%s-%s" .Values.bfl.username $appcache | quote }}`,
    `    appcache_pvc: {{ printf "pvc-appcache-%s-%s" .Values.bfl.username $appcache | quote }}`,
    `    appcache_hostpath: {{ printf "%s/userdata/Cache/%s" .Values.rootPath .Values.bfl.username | quote }}`,
    `    dbdata_pv: {{ printf "pv-dbdata-%s-%s" .Values.bfl.username $dbdata | quote }}`,
    `    dbdata_pvc: {{ printf "pvc-dbdata-%s-%s" .Values.bfl.username $dbdata | quote }}`,
    `    dbdata_hostpath: {{ printf "%s/userdata/dbdata/%s" .Values.rootPath .Values.bfl.username | quote }}`,
  ].join("\n");
  const bflEnv = `            - name: BFL_USERNAME
              value: {{ .Values.bfl.username | quote }}
            - name: APP_KEY
              value: {{ .Values.bfl.appKey | quote }}
            - name: APP_SECRET
              value: {{ .Values.bfl.appSecret | quote }}`;
  return {
    "Chart.yaml": chartYaml("launcher", version, "The per-user launcher (bfl)"),
    "values.yaml": "bfl:\n  nodeport: 30883\n  nodeport_ingress_http: 30083\n  nodeport_ingress_https: 30082\n  username: ''\n  admin_user: false\n  appKey: ''\n  appSecret: ''\nrootPath: /olares\n",
    "templates/values.yaml": valuesEcho("launcher", LAUNCHER_KEYS),
    "templates/bfl_deploy.yaml": `${rand("userspace")}\n${rand("appcache")}\n${rand("dbdata")}\n${workload(bfl, version, { annotations: bflAnnotations, env: bflEnv })}---
apiVersion: v1
kind: Service
metadata:
  name: bfl
  namespace: {{ .Release.Namespace }}
spec:
  type: NodePort
  selector:
    app: bfl
  ports:
    - name: http
      port: 80
      nodePort: {{ .Values.bfl.nodeport }}
`,
    "templates/user-system-namespace.yaml": `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: user-system-{{ .Values.bfl.username }}\n`,
    ...workloads(rest, version),
  };
}

// --- apps: one chart per built-in app (apps.go@b57e85c3 PrepareAppValues) ----------------------------
export const APP_KEYS = [
  "bfl.nodeport", "bfl.nodeport_ingress_http", "bfl.nodeport_ingress_https", "bfl.username", "bfl.admin_user", "bfl.url", "bfl.nodeName",
  "pvc.userspace", "userspace.userData", "userspace.appData", "userspace.appCache", "userspace.dbdata",
  "desktop.nodeport", "global.bfl.username", "debugVersion", "gpu", "fs_type", "rootPath", "os",
] as const;

function appChart(app: string, version: string): Files {
  const files: Files = {
    "Chart.yaml": chartYaml(app, version, `The ${app} app`),
    "values.yaml": "bfl:\n  username: ''\nos: {}\n",
    "templates/values.yaml": valuesEcho(app, APP_KEYS),
    [`templates/${app}.yaml`]: workload({ name: app, kind: "Deployment" }, version, {
      env: `            - name: APP_KEY\n              value: {{ (index (.Values.os | default dict) "${app}" | default dict).appKey | default "" | quote }}`,
    }),
  };
  if (app === "desktop" || app === "wizard") {
    // 1.12-era: the wizard is reached on the desktop node port (desktop.nodeport = 30180) until activation.
    const port = app === "wizard" ? "30180" : "{{ .Values.desktop.nodeport }}";
    files[`templates/${app}-svc.yaml`] = `{{- if ${app === "wizard" ? "true" : "false"} }}
apiVersion: v1
kind: Service
metadata:
  name: ${app}
  namespace: {{ .Release.Namespace }}
spec:
  type: NodePort
  selector:
    app: ${app}
  ports:
    - name: http
      port: 80
      nodePort: ${port}
{{- end }}
`;
  }
  return files;
}

// --- gpu/hami: installed with empty values (gpu/tasks.go@0c65ee70 InstallPlugin) ----------------------
function hamiChart(version: string): Files {
  return {
    "Chart.yaml": chartYaml("hami", "2.6.11", "HAMi GPU sharing"),
    "values.yaml": `version: v2.6.11
schedulerName: hami-scheduler
devicePlugin:
  deviceSplitCount: 30
  runtimeClassName: nvidia
  nvidianodeSelector:
    gpu.bytetrade.io/cuda-supported: "true"
scheduler:
  patch:
    enabled: true
`,
    "templates/namespace.yaml": namespaceDoc("os-gpu"),
    "templates/runtimeclass.yaml": `apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: {{ .Values.devicePlugin.runtimeClassName }}\nhandler: nvidia\n`,
    ...workloads(HAMI_WORKLOADS, version),
  };
}

/** Every chart, keyed by its path under the installer dir. */
export function fixtureCharts(version: string): Record<string, Files> {
  const charts: Record<string, Files> = {
    "wizard/config/account": accountChart(version),
    "wizard/config/settings": settingsChart(version),
    "wizard/config/os-platform": osChart("os-platform", version),
    "wizard/config/os-framework": osChart("os-framework", version),
    "wizard/config/launcher": launcherChart(version),
    "wizard/config/gpu/hami": hamiChart(version),
  };
  for (const app of FIXTURE_APPS) charts[`wizard/config/apps/${app}`] = appChart(app, version);
  return charts;
}
