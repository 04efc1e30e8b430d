// Multi-node JuiceFS, rendered (pure, no cluster): one shared volume, the managed Redis/MinIO on the
// primary at its InternalIP (as olares-cli binds them) and every worker mounting with that address;
// a spec change walks every node (the primary moves its tree, a worker merges its own into the volume
// or copies the volume back onto its disk). And the gate and collision rules the layers share.
import { expect } from "chai";
import { defaultSpec } from "../../operator/src/api/index.js";
import { renderStorageMigrationPlan, renderStorageNodeTasks } from "../../operator/src/render/stages/storage-plan.js";
import { renderRedisConf, renderMinioEnv } from "../../operator/src/agent/storage/index.js";
import {
  STORAGE_MIGRATION_STEPS,
  WORKER_MERGE_STEPS,
  describeTask,
  findClaimCollisions,
  gateAck,
  gateAckState,
  parseManagedStoragePorts,
  validateHostTasks,
  withCredentialsHash,
  type ClusterFacts,
  type HostTask,
} from "../../operator/src/contract/index.js";

const HASH = "0123456789abcdef";
const CP = { "node-role.kubernetes.io/control-plane": "true" };
const facts = (activeType?: "LocalFS" | "JuiceFS", withIPs = true): ClusterFacts => ({
  nodes: [
    { name: "w2", labels: {}, ...(withIPs ? { internalIP: "10.1.0.12" } : {}) },
    { name: "cp", labels: CP, ...(withIPs ? { internalIP: "10.1.0.10" } : {}) },
    { name: "w1", labels: {}, ...(withIPs ? { internalIP: "10.1.0.11" } : {}) },
  ],
  ownerUid: "uid-1",
  operatorImage: "img:1",
  ...(activeType ? { storage: { activeType } } : {}),
});
const JUICEFS = { type: "JuiceFS", rootPath: "/olares", juicefs: { objectStore: { type: "ManagedMinIO" } } };
const spec = (storage: Record<string, unknown>) => defaultSpec({ version: "1.12.1", owner: { username: "alice" }, storage }, "olares");

describe("multi-node JuiceFS, rendered: one shared volume at the primary's address", () => {
  it("the managed ports come from the operator's OLARES_STORAGE_MANAGED_PORTS when set (olares-cli's 6379/9000/9090 otherwise); a bad value is refused naming the variable", () => {
    const ports = parseManagedStoragePorts("16379, 19000,19090")!;
    expect(ports).to.deep.equal({ redis: 16379, minio: 19000, console: 19090 });
    expect(parseManagedStoragePorts(undefined)).to.equal(undefined);
    expect(parseManagedStoragePorts(" ")).to.equal(undefined);
    for (const bad of ["6379,9000", "6379,9000,9000", "6379,9000,70000", "6379,x,9090", "6379,9000,9090,1"]) expect(() => parseManagedStoragePorts(bad), bad).to.throw(/OLARES_STORAGE_MANAGED_PORTS: .* must be three different ports/);
    const tasks = renderStorageNodeTasks(spec(JUICEFS), { ...facts(), storage: { managedPorts: ports } });
    const cp = tasks.get("cp")![0] as HostTask & { backend: { metaUrl: string; bucketUrl: string; managedRedis: { port: number }; managedMinio: { port: number; consolePort: number } } };
    expect(cp.backend).to.deep.include({ metaUrl: "redis://10.1.0.10:16379/1", bucketUrl: "http://10.1.0.10:19000/olares" });
    expect(cp.backend.managedRedis.port).to.equal(16379);
    expect(cp.backend.managedMinio).to.deep.include({ port: 19000, consolePort: 19090 });
    expect((tasks.get("w1")![0] as HostTask & { backend: { metaUrl: string } }).backend.metaUrl).to.equal("redis://10.1.0.10:16379/1");
    const plain = renderStorageNodeTasks(spec(JUICEFS), facts()).get("cp")![0] as HostTask & { backend: { metaUrl: string } };
    expect(plain.backend.metaUrl).to.equal("redis://10.1.0.10:6379/1");
  });

  it("install: the primary runs Redis (loopback + its IP) and MinIO at its IP; every worker mounts the same volume with the primary's URLs", () => {
    const tasks = renderStorageNodeTasks(spec(JUICEFS), facts());
    expect([...tasks.keys()].sort()).to.deep.equal(["cp", "w1", "w2"]);
    const cp = tasks.get("cp")![0] as HostTask & { kind: "juicefsRootfs" };
    const w1 = tasks.get("w1")![0] as HostTask & { kind: "juicefsRootfs" };
    expect(cp.role).to.equal("primary");
    expect(cp.backend).to.deep.include({ metaUrl: "redis://10.1.0.10:6379/1", bucketUrl: "http://10.1.0.10:9000/olares" });
    expect(cp.backend.managedRedis).to.deep.equal({ bind: "10.1.0.10", port: 6379 });
    expect(cp.backend.managedMinio).to.deep.include({ address: "10.1.0.10", port: 9000, consolePort: 9090 });
    expect(w1.role).to.equal("worker");
    expect(w1.backend).to.deep.include({ metaUrl: "redis://10.1.0.10:6379/1", bucketUrl: "http://10.1.0.10:9000/olares", name: cp.backend.name });
    expect(w1.backend.managedRedis).to.equal(undefined);
    expect(w1.backend.managedMinio).to.equal(undefined);
    for (const t of [cp, w1]) expect(validateHostTasks(withCredentialsHash([t], HASH) as HostTask[])).to.deep.equal([]);
    const conf = renderRedisConf("/olares", { bind: "10.1.0.10", port: 6379, password: "p4ssw0rd-long" });
    expect(conf.content).to.match(/^bind 127\.0\.0\.1 10\.1\.0\.10$/m).and.match(/^requirepass /m);
    const minio = renderMinioEnv("/olares", { address: "10.1.0.10", port: 9000, consolePort: 9090, rootUser: "minioadmin", rootPassword: "p4ssw0rd-long" });
    expect(minio.content).to.include('MINIO_OPTS="--console-address 10.1.0.10:9090 --address 10.1.0.10:9000 --anonymous"');
  });

  it("without the primary's address, workers get no config (the managed services would be loopback only)", () => {
    expect([...renderStorageNodeTasks(spec(JUICEFS), facts(undefined, false)).keys()]).to.deep.equal(["cp"]);
  });

  it("a spec change walks every node: the primary first with the whole walk, a worker merging (to JuiceFS) or copying back (to LocalFS)", () => {
    const there = renderStorageMigrationPlan(spec(JUICEFS), facts("LocalFS"))!;
    expect(there.nodes.map((n) => `${n.node}:${n.role}`)).to.deep.equal(["cp:primary", "w2:worker", "w1:worker"]);
    expect(there.nodes[0]!.steps).to.deep.equal(STORAGE_MIGRATION_STEPS);
    expect(there.nodes[1]!.steps).to.deep.equal(WORKER_MERGE_STEPS);
    expect(new Set(there.nodes.map((n) => n.migrationId)).size).to.equal(1);
    const tasks = renderStorageNodeTasks(spec(JUICEFS), facts("LocalFS"));
    const w = tasks.get("w1")![0] as HostTask & { kind: "storageMigration" };
    expect(w).to.deep.include({ kind: "storageMigration", role: "worker", from: "LocalFS", to: "JuiceFS" });
    expect(validateHostTasks(withCredentialsHash([w], HASH) as HostTask[])).to.deep.equal([]);
    expect(describeTask(w).join("\n")).to.match(/merge \/olares\/rootfs into the shared JuiceFS volume/).and.match(/must not collide/);
    const back = renderStorageMigrationPlan(spec({ ...JUICEFS, type: "LocalFS" }), facts("JuiceFS"))!;
    expect(back.nodes.every((n) => n.steps === STORAGE_MIGRATION_STEPS)).to.equal(true);
    const bad = { ...w, backend: { ...w.backend, managedRedis: { bind: "10.1.0.11", port: 6379 } } };
    expect(validateHostTasks(withCredentialsHash([bad], HASH) as HostTask[]).join("\n")).to.match(/must not run managed services on a worker/);
  });

  it("gate acks: a later ack passes an earlier gate; Abort and a refusal of this round stop; another config's ack is not ours", () => {
    expect(gateAckState(gateAck("s-1", "Quiesced"), "s-1", "Precheck")).to.equal("passed");
    expect(gateAckState(gateAck("s-1", "Prechecked"), "s-1", "Quiesce")).to.equal("waiting");
    expect(gateAckState(gateAck("s-1", "Resumed"), "s-2", "Resume")).to.equal("waiting");
    expect(gateAckState(gateAck("s-1", "Abort"), "s-1", "Resume")).to.equal("abort");
    expect(gateAckState(gateAck("s-1", "Refused@r1"), "s-1", "Precheck", "r1")).to.equal("refused");
    expect(gateAckState(gateAck("s-1", "Refused@r1"), "s-1", "Precheck", "r2")).to.equal("waiting");
  });

  it("claims collide when two nodes hold the same path, or one holds a file where another has a directory", () => {
    const c = findClaimCollisions([
      { node: "cp", claims: ["local-path/pvc-a", "notes.txt", "apps"] },
      { node: "w1", claims: ["local-path/pvc-b", "apps/x"] },
      { node: "w2", claims: ["local-path/pvc-a", "local-path/pvc-c"] },
    ]);
    expect(c).to.deep.equal([
      { path: "apps", nodes: ["cp", "w1"] },
      { path: "local-path/pvc-a", nodes: ["cp", "w2"] },
    ]);
    expect(findClaimCollisions([{ node: "cp", claims: ["local-path/pvc-a"] }, { node: "w1", claims: ["local-path/pvc-b"] }])).to.deep.equal([]);
  });
});
