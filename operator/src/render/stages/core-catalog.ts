// The default set of Olares core components in os-framework and their default values.
// beclab images follow the Olares release; third-party images are pinned in images.ts.
import { CITUS_IMAGE, KVROCKS_IMAGE, LLDAP_IMAGE, NATS_IMAGE, beclabImage } from "../images.js";
import { CORE_CREDENTIALS_SECRET } from "../../contract/index.js";

export type Values = Record<string, unknown>;

export interface ComponentPort {
  name: string;
  port: number;
}

export interface ComponentResources {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** Keys of the generated Secret olares-core-credentials (the controller creates it once). */
export const CORE_CREDENTIAL_KEYS = ["kvrocks-password", "lldap-admin-password", "lldap-jwt-secret", "nats-password", "postgres-password"] as const;
export type CoreCredentialKey = (typeof CORE_CREDENTIAL_KEYS)[number];

export interface ComponentDefinition {
  name: string;
  kind: "Deployment" | "StatefulSet";
  image(version: string): string;
  replicas: number;
  ports: ComponentPort[];
  resources: ComponentResources;
  /** Defaults the user's `values` are deep-merged onto. `env` (string map) becomes container env. */
  values(ctx: { domain: string; username: string }): Values;
  /** Container args from the merged values; may use $(VAR) references to env. */
  args?(values: Values): string[];
  /** Env taken from the generated credentials Secret: env name → key. */
  secretEnv?: Record<string, CoreCredentialKey>;
  /** Persistent data (StatefulSets): mount path; size comes from values.storage.size. */
  dataPath?: string;
}

function str(values: Values, path: string[], fallback: string): string {
  let cur: unknown = values;
  for (const p of path) cur = cur && typeof cur === "object" ? (cur as Values)[p] : undefined;
  return cur === undefined || cur === null ? fallback : String(cur);
}

function baseDn(domain: string): string {
  return domain.split(".").map((part) => `dc=${part}`).join(",");
}

export const CORE_COMPONENTS: ComponentDefinition[] = [
  {
    name: "citus",
    kind: "StatefulSet",
    image: () => CITUS_IMAGE,
    replicas: 1,
    ports: [{ name: "postgres", port: 5432 }],
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "2Gi" } },
    values: () => ({
      env: { PGDATA: "/var/lib/postgresql/data/pgdata", POSTGRES_DB: "os_framework", POSTGRES_USER: "olares" },
      postgres: { maxConnections: 200, sharedBuffers: "256MB" },
      storage: { size: "20Gi" },
    }),
    args: (v) => [
      "-c",
      `max_connections=${str(v, ["postgres", "maxConnections"], "200")}`,
      "-c",
      `shared_buffers=${str(v, ["postgres", "sharedBuffers"], "256MB")}`,
    ],
    secretEnv: { POSTGRES_PASSWORD: "postgres-password" },
    dataPath: "/var/lib/postgresql/data",
  },
  {
    name: "nats",
    kind: "StatefulSet",
    image: () => NATS_IMAGE,
    replicas: 1,
    ports: [
      { name: "client", port: 4222 },
      { name: "monitor", port: 8222 },
    ],
    resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "512Mi" } },
    values: () => ({ env: { NATS_USER: "olares" }, jetstream: { maxFileStore: "10G" }, storage: { size: "10Gi" } }),
    args: (v) => [
      "--jetstream",
      "--store_dir=/data",
      `--http_port=8222`,
      "--user=$(NATS_USER)",
      "--pass=$(NATS_PASSWORD)",
      `--max_file_store=${str(v, ["jetstream", "maxFileStore"], "10G")}`,
    ],
    secretEnv: { NATS_PASSWORD: "nats-password" },
    dataPath: "/data",
  },
  {
    name: "kvrocks",
    kind: "StatefulSet",
    image: () => KVROCKS_IMAGE,
    replicas: 1,
    ports: [{ name: "redis", port: 6666 }],
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "1Gi" } },
    values: () => ({ kvrocks: { workers: 4 }, storage: { size: "10Gi" } }),
    args: (v) => [
      "--bind",
      "0.0.0.0",
      "--dir",
      "/var/lib/kvrocks",
      "--workers",
      str(v, ["kvrocks", "workers"], "4"),
      "--requirepass",
      "$(KVROCKS_PASSWORD)",
    ],
    secretEnv: { KVROCKS_PASSWORD: "kvrocks-password" },
    dataPath: "/var/lib/kvrocks",
  },
  {
    name: "lldap",
    kind: "StatefulSet",
    image: () => LLDAP_IMAGE,
    replicas: 1,
    ports: [
      { name: "ldap", port: 3890 },
      { name: "http", port: 17170 },
    ],
    resources: { requests: { cpu: "20m", memory: "32Mi" }, limits: { memory: "256Mi" } },
    values: ({ domain }) => ({ env: { LLDAP_LDAP_BASE_DN: baseDn(domain), TZ: "UTC" }, storage: { size: "1Gi" } }),
    secretEnv: { LLDAP_JWT_SECRET: "lldap-jwt-secret", LLDAP_LDAP_USER_PASS: "lldap-admin-password" },
    dataPath: "/data",
  },
  {
    name: "authelia",
    kind: "Deployment",
    image: (version) => beclabImage("auth", version),
    replicas: 1,
    ports: [{ name: "http", port: 9091 }],
    resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "512Mi" } },
    values: ({ domain }) => ({
      env: {
        AUTHELIA_AUTHENTICATION_BACKEND_LDAP_URL: "ldap://lldap.os-framework:3890",
        AUTHELIA_SESSION_DOMAIN: domain,
        AUTHELIA_STORAGE_POSTGRES_HOST: "citus.os-framework",
        AUTHELIA_STORAGE_POSTGRES_PORT: "5432",
      },
    }),
    secretEnv: { AUTHELIA_AUTHENTICATION_BACKEND_LDAP_PASSWORD: "lldap-admin-password", AUTHELIA_STORAGE_POSTGRES_PASSWORD: "postgres-password" },
  },
  {
    name: "system-server",
    kind: "Deployment",
    image: (version) => beclabImage("system-server", version),
    replicas: 1,
    ports: [{ name: "http", port: 80 }],
    resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "512Mi" } },
    values: () => ({ env: { NATS_HOST: "nats.os-framework", NATS_PORT: "4222", PG_HOST: "citus.os-framework", PG_PORT: "5432" } }),
    secretEnv: { NATS_PASSWORD: "nats-password", PG_PASSWORD: "postgres-password" },
  },
  {
    name: "app-service",
    kind: "Deployment",
    image: (version) => beclabImage("app-service", version),
    replicas: 1,
    ports: [{ name: "http", port: 6755 }],
    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "1Gi" } },
    values: () => ({
      env: { KVROCKS_HOST: "kvrocks.os-framework", KVROCKS_PORT: "6666", NATS_HOST: "nats.os-framework", PG_HOST: "citus.os-framework" },
    }),
    secretEnv: { KVROCKS_PASSWORD: "kvrocks-password", NATS_PASSWORD: "nats-password", PG_PASSWORD: "postgres-password" },
  },
  {
    name: "bfl",
    kind: "Deployment",
    image: (version) => beclabImage("bfl", version),
    replicas: 1,
    ports: [{ name: "http", port: 8080 }],
    resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "512Mi" } },
    values: ({ domain, username }) => ({
      env: { APP_SERVICE_URL: "http://app-service.os-framework:6755", OLARES_DOMAIN: domain, OLARES_USER: username },
    }),
  },
];

export const CORE_COMPONENT_NAMES = CORE_COMPONENTS.map((c) => c.name);
export { CORE_CREDENTIALS_SECRET };
