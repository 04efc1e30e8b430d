// The Argo CD health check for OlaresInstallation, run by real Lua interpreters against sample objects.
// Argo CD embeds gopher-lua (Lua 5.1); Lua 5.4 is run too so that nothing version-specific slips in.
// Needs the Debian packages lua5.1 and lua5.4.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../chart/tools.js";
import { runHealthCheck, toLua } from "./lua.js";

const HEALTH_LUA = join(ROOT, "examples/argocd/health.lua");
const INTERPRETERS = ["lua5.1", "lua5.4"];

function cond(type: string, status: "True" | "False" | "Unknown", observedGeneration: number, message = "", reason = "Reconciled") {
  return { type, status, observedGeneration, reason, message, lastTransitionTime: "2026-01-01T00:00:00Z" };
}

function installation(generation: number, extra: { spec?: object; status?: object } = {}) {
  return {
    apiVersion: "olares.com/v1alpha1",
    kind: "OlaresInstallation",
    metadata: { name: "olares", generation, finalizers: ["olares.com/host-cleanup"] },
    spec: { version: "1.12.1", owner: { username: "alice" }, storage: { type: "LocalFS" }, ...extra.spec },
    ...(extra.status ? { status: extra.status } : {}),
  };
}

const SAMPLES: Array<{ name: string; obj: object; status: string; message: RegExp }> = [
  { name: "fresh (no status yet)", obj: installation(1), status: "Progressing", message: /Waiting for the operator to report status/ },
  {
    name: "progressing through the stages",
    obj: installation(1, {
      status: {
        observedGeneration: 1,
        phase: "Installing",
        conditions: [
          cond("Ready", "False", 1, "Waiting for stage Storage"),
          cond("Progressing", "True", 1, "Stage Storage: DaemonSet olares-system/juicefs 1/3 ready", "StageNotReady"),
          cond("Degraded", "False", 1),
        ],
      },
    }),
    status: "Progressing",
    message: /^Stage Storage: DaemonSet olares-system\/juicefs 1\/3 ready$/,
  },
  {
    name: "ready at the current generation",
    obj: installation(3, {
      status: {
        observedGeneration: 3,
        phase: "Ready",
        version: "1.12.1",
        conditions: [cond("Ready", "True", 3, "All stages ready"), cond("Progressing", "False", 3), cond("Degraded", "False", 3)],
      },
    }),
    status: "Healthy",
    message: /^Olares 1\.12\.1 is ready$/,
  },
  {
    name: "ready, but the operator has not observed the new generation",
    obj: installation(4, {
      status: { observedGeneration: 3, phase: "Ready", conditions: [cond("Ready", "True", 3)] },
    }),
    status: "Progressing",
    message: /observe generation 4/,
  },
  {
    name: "ready condition left over from an older generation",
    obj: installation(4, {
      status: { observedGeneration: 4, phase: "Upgrading", conditions: [cond("Ready", "True", 3)] },
    }),
    status: "Progressing",
    message: /reported for generation 3; waiting for generation 4/,
  },
  {
    name: "ready condition without observedGeneration (not trusted)",
    obj: installation(2, {
      status: { observedGeneration: 2, conditions: [{ type: "Ready", status: "True", reason: "Reconciled", message: "" }] },
    }),
    status: "Progressing",
    message: /waiting for generation 2/,
  },
  {
    name: "degraded by condition (message passed through, unicode intact)",
    obj: installation(2, {
      status: {
        observedGeneration: 2,
        phase: "Installing",
        conditions: [cond("Ready", "False", 2), cond("Degraded", "True", 2, "node n1: apt-get failed — \"E: Unable to locate package\"", "NodeDegraded")],
      },
    }),
    status: "Degraded",
    message: /^node n1: apt-get failed — "E: Unable to locate package"$/,
  },
  {
    name: "degraded by phase only",
    obj: installation(2, { status: { observedGeneration: 2, phase: "Degraded", message: "storage migration failed" } }),
    status: "Degraded",
    message: /^storage migration failed$/,
  },
  {
    name: "degraded wins over a ready condition",
    obj: installation(2, {
      status: { observedGeneration: 2, phase: "Ready", conditions: [cond("Ready", "True", 2), cond("Degraded", "True", 2, "drift on n2")] },
    }),
    status: "Degraded",
    message: /^drift on n2$/,
  },
  {
    name: "ignored (another installation is honoured)",
    obj: installation(1, { status: { observedGeneration: 1, phase: "Ignored", message: "olares-old is honoured" } }),
    status: "Degraded",
    message: /^olares-old is honoured$/,
  },
  {
    name: "paused, even while degraded",
    obj: installation(5, {
      spec: { paused: true },
      status: { observedGeneration: 4, phase: "Degraded", conditions: [cond("Degraded", "True", 4, "x")] },
    }),
    status: "Suspended",
    message: /spec\.paused/,
  },
  {
    name: "paused: false is not suspended",
    obj: installation(1, {
      spec: { paused: false },
      status: { observedGeneration: 1, phase: "Ready", conditions: [cond("Ready", "True", 1)] },
    }),
    status: "Healthy",
    message: /.+/,
  },
];

describe("Argo CD health.lua for OlaresInstallation", () => {
  before(() => {
    for (const lua of INTERPRETERS) {
      try {
        execFileSync(lua, ["-v"], { stdio: "ignore" });
      } catch {
        throw new Error(`${lua} is not installed: apt-get install -y lua5.1 lua5.4`);
      }
    }
  });

  for (const lua of INTERPRETERS) {
    describe(`under ${lua}`, () => {
      for (const sample of SAMPLES) {
        it(`${sample.name} → ${sample.status}`, async () => {
          const hs = await runHealthCheck(lua, HEALTH_LUA, sample.obj);
          expect(hs.status).to.equal(sample.status);
          expect(hs.message).to.match(sample.message);
        });
      }
    });
  }

  it("is the same script in docs/argocd.md and in argocd-cm-patch.yaml", () => {
    const lua = readFileSync(HEALTH_LUA, "utf8");
    const doc = readFileSync(join(ROOT, "docs/argocd.md"), "utf8");
    const block = /```lua\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block, "docs/argocd.md has a ```lua block").to.equal(lua);
    const cm = parse(readFileSync(join(ROOT, "examples/argocd/argocd-cm-patch.yaml"), "utf8")) as { data: Record<string, string> };
    expect(cm.data["resource.customizations.health.olares.com_OlaresInstallation"]).to.equal(lua);
    expect(cm.data["resource.customizations.health.argoproj.io_Application"]).to.include("obj.status.health.status");
  });

  it("writes Lua literals that survive a round trip (quotes, backslashes, newlines, unicode)", async () => {
    const tricky = { s: 'a"b\\c\nd — ü', n: 2.5, list: [1, "x", true], nested: { gone: null } };
    const script = `obj = ${toLua(tricky)}\nio.write(obj.s, "|", tostring(obj.n), "|", tostring(#obj.list), "|", tostring(obj.list[3]), "|", tostring(obj.nested.gone))`;
    for (const lua of INTERPRETERS) {
      const out = execFileSync(lua, ["-"], { input: script }).toString();
      expect(out).to.equal('a"b\\c\nd — ü|2.5|3|true|nil');
    }
  });
});
