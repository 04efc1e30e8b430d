// The image runs as uid 65532; the node agent needs root on the host. The DaemonSet the operator
// renders must therefore override the image user, or the privileged agent runs without capabilities.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, plan } from "../chart/tools.js";
import { all, parseDockerfile } from "./dockerfile.js";

describe("image user and the node agent", function () {
  this.timeout(60_000);

  it("the rendered agent DaemonSet runs the operator image as root, overriding the image's USER", async () => {
    const file = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
    const imageUser = all(file.stages[file.stages.length - 1]!, "USER").at(-1)?.args;
    expect(imageUser).to.equal("65532:65532");

    const objects = await plan(readFileSync(join(ROOT, "examples/olares.yaml"), "utf8"), ["--image", "example.test/olares-operator:v1"]);
    const agents = objects.filter(
      (o) => o.kind === "DaemonSet" && JSON.stringify(o).includes('"image":"example.test/olares-operator:v1"'),
    ) as unknown as Array<{ metadata: { name: string }; spec: { template: { spec: { securityContext?: { runAsUser?: number }; containers: Array<{ name: string; image: string; args?: string[]; securityContext?: { runAsUser?: number } }> } } } }>;
    expect(agents.map((a) => a.metadata.name)).to.deep.equal(["olares-node-agent"]);
    const pod = agents[0]!.spec.template.spec;
    const agent = pod.containers.find((c) => c.image === "example.test/olares-operator:v1")!;
    expect(agent.args?.[0]).to.equal("agent");
    const uid = agent.securityContext?.runAsUser ?? pod.securityContext?.runAsUser;
    expect(uid, "olares-node-agent must set securityContext.runAsUser: 0 (the image defaults to 65532)").to.equal(0);
  });
});
