import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { agentMayBeInvoked, buildProgram } from "../../operator/src/cli/main.js";
import { OPERATOR_VERSION } from "../../operator/src/cli/version.js";

const root = join(import.meta.dirname, "../..");

async function helpOf(args: string[]): Promise<string> {
  let out = "";
  const program = (await buildProgram(["node", "olares-operator", ...args])).exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  for (const c of program.commands) c.exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  try {
    program.parse(["node", "olares-operator", ...args]);
  } catch (err) {
    if ((err as { code?: string }).code !== "commander.helpDisplayed") throw err;
  }
  return out;
}

describe("olares-operator CLI", () => {
  it("registers run, plan, validate, crd and agent", async () => {
    expect((await buildProgram()).commands.map((c) => c.name())).to.have.members(["run", "plan", "validate", "crd", "agent"]);
  });

  it("loads the heavy agent module only when it may be invoked", async () => {
    expect(agentMayBeInvoked(["node", "x", "plan", "-f", "a.yaml"])).to.equal(false);
    expect(agentMayBeInvoked(["node", "x", "--help"])).to.equal(true);
    expect(agentMayBeInvoked(["node", "x", "help", "agent"])).to.equal(true);
    expect(agentMayBeInvoked(["node", "x", "agent", "--node-name", "n"])).to.equal(true);
    expect((await buildProgram(["node", "x", "plan"])).commands.map((c) => c.name())).to.not.include("agent");
  });

  it("--help works on the program and on each command", async () => {
    expect(await helpOf(["--help"])).to.include("Usage: olares-operator").and.include("agent [options]");
    expect(await helpOf(["run", "--help"])).to.include("--kubeconfig").and.include("--metrics-addr").and.include("--leader-elect").and.include("--namespace").and.include("--image");
    expect(await helpOf(["plan", "--help"])).to.include("--file").and.include("--output").and.include("--nodes").and.include("--gpu-nodes");
    expect(await helpOf(["validate", "--help"])).to.include("Usage: olares-operator validate");
    expect(await helpOf(["crd", "--help"])).to.include("Usage: olares-operator crd");
    expect(await helpOf(["agent", "--help"])).to.include("Usage: olares-operator agent");
  });

  it("reports the package version", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(OPERATOR_VERSION).to.equal(pkg.version);
  });

  it("crd prints the shipped CRD, and plan runs as a real process", () => {
    const tsx = join(root, "node_modules/.bin/tsx");
    const crd = execFileSync(tsx, ["operator/src/cli/main.ts", "crd"], { cwd: root, encoding: "utf8" });
    expect(crd).to.equal(readFileSync(join(root, "crds/olares.com_olaresinstallations.yaml"), "utf8"));
    const plan = execFileSync(tsx, ["operator/src/cli/main.ts", "plan", "-f", "examples/olares.yaml"], { cwd: root, encoding: "utf8" });
    // The Olares release's charts, in the installer's order.
    expect(plan).to.match(/CoreServices\s+HelmRelease\s+default\/account\s+chart <cache>\/versions\/v1\.12\.1\/wizard\/config\/account/);
    expect(plan.indexOf("os-platform/os-platform")).to.be.lessThan(plan.indexOf("os-framework/os-framework"));
  });
});
