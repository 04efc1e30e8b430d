// Every rendered built-in object validates against the upstream Kubernetes schema.
import { expect } from "chai";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Namespace, ServiceAccount, ConfigMap, Service } from "kubernetes-models/v1";
import { DaemonSet, Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { StorageClass } from "kubernetes-models/storage.k8s.io/v1";
import { render, allObjects } from "../../operator/src/render/index.js";
import type { KubeObject } from "../../operator/src/contract/index.js";
import { FACTS, spec, specFromFile } from "./fixtures.js";

type Model = new (data: any) => { validate(): void };
const MODELS: Record<string, Model> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "apps/v1/DaemonSet": DaemonSet,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "storage.k8s.io/v1/StorageClass": StorageClass,
};

const examplesDir = join(import.meta.dirname, "../../examples");
const variants: Array<[string, () => KubeObject[]]> = [
  ...readdirSync(examplesDir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f): [string, () => KubeObject[]] => [`examples/${f}`, () => allObjects(render(specFromFile(join(examplesDir, f)), FACTS))]),
  ["HAMi sharing", () => allObjects(render(spec({ gpu: { enabled: "true", sharing: { mode: "HAMi" } } }), FACTS))],
  ["JuiceFS on S3 with overrides", () =>
    allObjects(
      render(
        spec({
          storage: { type: "JuiceFS", juicefs: { objectStore: { type: "S3", bucket: "b", credentialsSecretRef: { name: "c" } } } },
          nodes: { selector: { "olares.com/role": "worker" } },
          coreServices: { citus: { replicas: 2, resources: { limits: { memory: "4Gi" } }, values: { storage: { size: "100Gi" } } } },
        }),
        FACTS,
      ),
    )],
];

describe("rendered objects against the Kubernetes schema (kubernetes-models)", () => {
  it("the schema check does reject a broken object", () => {
    const ds = allObjects(render(spec(), FACTS)).find((o) => o.kind === "DaemonSet")!;
    const broken = structuredClone(ds) as any;
    broken.spec.template.spec.containers[0].ports = [{ containerPort: "not-a-number" }];
    expect(() => new DaemonSet(broken).validate()).to.throw();
  });

  for (const [name, objects] of variants) {
    it(`${name}: every object validates`, () => {
      const rendered = objects();
      expect(rendered.length).to.be.greaterThan(10);
      for (const o of rendered) {
        const Model = MODELS[`${o.apiVersion}/${o.kind}`];
        expect(Model, `no schema model for ${o.apiVersion} ${o.kind}`).to.not.equal(undefined);
        try {
          new Model!(o).validate();
        } catch (err) {
          throw new Error(`${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}: ${(err as Error).message}`);
        }
      }
    });
  }
});
