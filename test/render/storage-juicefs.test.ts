// The Storage stage's storage walk, rendered (pure, no cluster): JuiceFS on every node for a fresh
// install, a migration per node when the spec's type differs from the active one, nothing on LocalFS;
// the credentials only ever as a Secret reference.
import { expect } from "chai";
import { defaultSpec } from "../../operator/src/api/index.js";
import { render } from "../../operator/src/render/index.js";
import { renderStorageMigrationPlan, renderStorageNodeTasks } from "../../operator/src/render/stages/storage-plan.js";
import {
  STORAGE_CREDENTIALS_SECRET,
  STORAGE_MIGRATION_STEPS,
  describeTask,
  stageHook,
  validateHostTasks,
  withCredentialsHash,
  type ClusterFacts,
  type HostTask,
} from "../../operator/src/contract/index.js";

const facts = (activeType?: "LocalFS" | "JuiceFS"): ClusterFacts => ({
  nodes: [{ name: "n1", labels: { "node-role.kubernetes.io/control-plane": "true" } }],
  ownerUid: "uid-1",
  operatorImage: "img:1",
  ...(activeType ? { storage: { activeType } } : {}),
});
const JUICEFS = { type: "JuiceFS", rootPath: "/olares", juicefs: { objectStore: { type: "ManagedMinIO" } } };
const spec = (storage: Record<string, unknown>) => defaultSpec({ version: "1.12.1", owner: { username: "alice" }, storage }, "olares");

function storageStage(storage: Record<string, unknown>, activeType?: "LocalFS" | "JuiceFS") {
  const stage = render(spec(storage), facts(activeType)).stages.find((s) => s.name === "Storage");
  expect(stage, "Storage stage").to.not.equal(undefined);
  return stage!;
}

describe("Storage stage: the storage walk, rendered", () => {
  it("fresh install on JuiceFS: the node gets a juicefsRootfs task with managed Redis and MinIO, the passwords a generated Secret", () => {
    const stage = storageStage(JUICEFS);
    const hook = stageHook(stage, "StorageMigration")!.storage;
    expect(hook.migration).to.equal(undefined);
    expect(hook.nodes.map((n) => n.node)).to.deep.equal(["n1"]);
    const task = hook.nodes[0]!.tasks[0] as HostTask & { kind: "juicefsRootfs" };
    expect(task).to.deep.include({ kind: "juicefsRootfs", role: "primary", root: "/olares" });
    expect(task.backend).to.deep.include({ storage: "minio", bucketUrl: "http://127.0.0.1:9000/olares", metaUrl: "redis://127.0.0.1:6379/1", cacheDir: "/olares/jfscache", cacheSizeMiB: 102400 });
    expect(task.credentials).to.deep.equal({ namespace: "olares-system", name: STORAGE_CREDENTIALS_SECRET, hash: "" });
    expect(validateHostTasks(withCredentialsHash([task], "0123456789abcdef") as HostTask[])).to.deep.equal([]);
    const generated = stageHook(stage, "GeneratedSecrets")!.secrets;
    expect(generated.map((s) => [s.name, s.keys])).to.deep.equal([["olares-storage-generated", ["redis-password", "minio-root-password"]]]);
    // The agents may read the one credentials Secret, by name.
    const role = stage.objects.find((o) => o.kind === "Role" && o.metadata.name === "olares-node-agent-storage-credentials")!;
    expect((role["rules"] as unknown[])[0]).to.deep.equal({ apiGroups: [""], resources: ["secrets"], resourceNames: [STORAGE_CREDENTIALS_SECRET], verbs: ["get"] });
    expect(describeTask(task).join("\n")).to.match(/unit redis-server\.service[\s\S]*unit minio\.service[\s\S]*juicefs\.service[\s\S]*k3s\.service\.d/);
  });

  it("LocalFS active, spec JuiceFS: one migration on the control-plane node, every step, the old tree kept", () => {
    const stage = storageStage(JUICEFS, "LocalFS");
    const hook = stageHook(stage, "StorageMigration")!.storage;
    expect(hook.migration).to.deep.include({ from: "LocalFS", to: "JuiceFS", root: "/olares" });
    expect(hook.migration!.nodes[0]).to.deep.include({ node: "n1", role: "primary", steps: STORAGE_MIGRATION_STEPS, keepPreviousAt: "/olares/rootfs.local.bak", retainPreviousData: true });
    expect(hook.migration!.quiesce).to.deep.equal({ namespacesExcluded: ["kube-system", "kube-public", "kube-node-lease", "olares-system"], volumesUnder: "/olares/rootfs" });
    const task = hook.nodes[0]!.tasks[0] as HostTask & { kind: "storageMigration" };
    expect(task).to.deep.include({ kind: "storageMigration", from: "LocalFS", to: "JuiceFS", migrationId: hook.migration!.nodes[0]!.migrationId });
    expect(validateHostTasks(withCredentialsHash([task], "0123456789abcdef") as HostTask[])).to.deep.equal([]);
    // The same spec renders the same migration id: a restarted operator resumes it.
    expect(renderStorageMigrationPlan(spec(JUICEFS), facts("LocalFS"))!.nodes[0]!.migrationId).to.equal(task.migrationId);
  });

  it("JuiceFS active, spec LocalFS (juicefs kept in the spec): the way back, the JuiceFS volume kept", () => {
    const plan = renderStorageMigrationPlan(spec({ ...JUICEFS, type: "LocalFS", retainPreviousData: false }), facts("JuiceFS"))!;
    expect(plan).to.deep.include({ from: "JuiceFS", to: "LocalFS" });
    expect(plan.nodes[0]).to.deep.include({ keepPreviousAt: "/olares/rootfs.juicefs.bak", retainPreviousData: false });
    expect(plan.nodes[0]!.migrationId).to.match(/^j2l-/);
  });

  it("LocalFS with nothing to migrate: no storage task for any node, no credentials", () => {
    const stage = storageStage({ type: "LocalFS", rootPath: "/olares" }, "LocalFS");
    const hook = stageHook(stage, "StorageMigration")!.storage;
    expect(hook.nodes).to.deep.equal([]);
    expect(hook.migration).to.equal(undefined);
    expect(stageHook(stage, "GeneratedSecrets")).to.equal(undefined);
    expect(renderStorageMigrationPlan(spec({ type: "LocalFS" }), facts("LocalFS"))).to.equal(undefined);
  });

  it("an S3/COS/OSS bucket without an endpoint is addressed at the provider's region; workers get no config with loopback-managed services", () => {
    const bucketOf = (type: string, region: string) =>
      (renderStorageNodeTasks(spec({ type: "JuiceFS", juicefs: { objectStore: { type, bucket: "olares-data", region, credentialsSecretRef: { name: "c" } } } }), facts()).get("n1")![0] as { backend: { bucketUrl: string } }).backend.bucketUrl;
    expect(bucketOf("S3", "eu-west-1")).to.equal("https://olares-data.s3.eu-west-1.amazonaws.com");
    expect(bucketOf("COS", "ap-guangzhou")).to.equal("https://olares-data.cos.ap-guangzhou.myqcloud.com");
    expect(bucketOf("OSS", "oss-cn-hangzhou")).to.equal("https://olares-data.oss-cn-hangzhou.aliyuncs.com");
    const two: ClusterFacts = { ...facts(), nodes: [...facts().nodes, { name: "w1", labels: {} }] };
    expect([...renderStorageNodeTasks(spec(JUICEFS), two).keys()]).to.deep.equal(["n1"]);
  });

  it("S3 with credentialsSecretRef: the hook copies the referenced keys; the rendered stage holds only their names", () => {
    const s3 = { type: "JuiceFS", juicefs: { objectStore: { type: "S3", endpoint: "https://s3.eu-west-1.amazonaws.com", bucket: "olares-data", region: "eu-west-1", credentialsSecretRef: { name: "s3-creds" } } } };
    const stage = storageStage(s3, "LocalFS");
    const hook = stageHook(stage, "StorageMigration")!.storage;
    expect(hook.credentials).to.deep.include({ managedRedis: true });
    expect(hook.credentials!.accessKey).to.deep.equal({ field: "spec.storage.juicefs.objectStore.credentialsSecretRef.accessKeyIdKey", name: "s3-creds", key: "AWS_ACCESS_KEY_ID" });
    const backend = (hook.nodes[0]!.tasks[0] as { backend: Record<string, unknown> }).backend;
    expect(backend).to.deep.include({ storage: "s3", bucketUrl: "https://s3.eu-west-1.amazonaws.com/olares-data", region: "eu-west-1" });
    expect(backend.managedMinio).to.equal(undefined);
  });
});
