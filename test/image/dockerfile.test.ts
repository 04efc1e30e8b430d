// Structure of the image build (no Docker engine here): pinned base, multi-stage with dev dependencies
// left behind, non-root numeric USER, OCI labels, nsenter for the agent, the CLI as entrypoint.
import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { all, parseDockerfile, type Dockerfile, type Stage } from "./dockerfile.js";
import { ROOT } from "../chart/tools.js";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  license: string;
  bin: Record<string, string>;
  devDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};

function runs(stage: Stage): string[] {
  return all(stage, "RUN").flatMap((r) => r.args.split(/\s*&&\s*/));
}

describe("Dockerfile", () => {
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const file: Dockerfile = parseDockerfile(text);
  const final = file.stages[file.stages.length - 1]!;
  const build = file.stages.find((s) => s.name === "build")!;

  it("is multi-stage: helm, a build stage and a separate runtime stage", () => {
    expect(file.stages.map((s) => s.name)).to.deep.equal(["helm", "build", "runtime"]);
  });

  it("pins every Node base image to an exact Node 22 LTS patch release of the slim Debian variant, and Go to an exact release", () => {
    for (const stage of file.stages.filter((s) => s.name !== "helm")) {
      expect(stage.image, `stage ${stage.name}`).to.match(/^node:22\.\d+\.\d+-bookworm-slim(@sha256:[a-f0-9]{64})?$/);
    }
    expect(file.stages.find((s) => s.name === "helm")!.image).to.match(/^golang:\d+\.\d+\.\d+-bookworm(@sha256:[a-f0-9]{64})?$/);
    expect(text).to.not.match(/:latest\b/);
    const baseLabel = all(final, "LABEL").map((l) => l.args).join(" ");
    expect(baseLabel).to.include(`org.opencontainers.image.base.name="docker.io/library/${final.image}"`);
  });

  it("builds with npm ci, compiles, then prunes dev dependencies in that order", () => {
    const commands = runs(build);
    const at = (re: RegExp) => commands.findIndex((c) => re.test(c));
    const ci = at(/^npm ci\b/);
    const compile = at(/^npm run build$/);
    const prune = at(/^npm prune --omit=dev\b/);
    expect(ci).to.be.greaterThanOrEqual(0);
    expect(compile).to.be.greaterThan(ci);
    expect(prune).to.be.greaterThan(compile);
    // nothing installs again after the prune
    expect(commands.slice(prune + 1).filter((c) => /^npm (ci|install|i)\b/.test(c))).to.deep.equal([]);
  });

  it("copies only production node_modules, dist, crds and package.json into the final stage, and the helm binary", () => {
    const copies = all(final, "COPY").map((c) => c.args);
    for (const c of copies) expect(c, "every final COPY comes from the build or the helm stage").to.match(/--from=(build|helm)\b/);
    const sources = copies.map((c) => c.split(" ").filter((w) => !w.startsWith("--"))[0]);
    expect(sources.sort()).to.deep.equal(["/out/helm", "/src/crds/", "/src/dist/", "/src/node_modules/", "/src/package.json"].sort());
    expect(runs(final).filter((c) => /\bnpm\b.*\b(ci|install|i)\b/.test(c))).to.deep.equal([]);
  });

  it("carries helm built from its Go module at a pinned tag (the Go checksum database verifies every module), as $OLARES_HELM", () => {
    const helm = file.stages.find((s) => s.name === "helm")!;
    expect(text).to.match(/^ARG HELM_VERSION=v4\.1\.\d+$/m);
    const commands = runs(helm).join(" ");
    expect(commands).to.include('go get "helm.sh/helm/v4/cmd/helm@${HELM_VERSION}"').and.include("CGO_ENABLED=0").and.include("-o /out/helm helm.sh/helm/v4/cmd/helm");
    expect(commands).to.not.match(/GOFLAGS=[^ ]*-insecure|GONOSUMDB|GOSUMDB=off|GOPRIVATE/);
    expect(all(final, "ENV").map((e) => e.args).join(" ")).to.include("OLARES_HELM=/usr/local/bin/helm");
  });

  it("gives libuv's threadpool room beyond the storage copier's 16 files in flight (a store outage blocks those in FUSE)", () => {
    const env = all(final, "ENV").map((e) => e.args).join(" ");
    const size = Number(/\bUV_THREADPOOL_SIZE=(\d+)\b/.exec(env)?.[1]);
    expect(size, "UV_THREADPOOL_SIZE in the final stage").to.be.at.least(32);
  });

  it("names no development dependency in the final stage", () => {
    const finalText = final.instructions.map((i) => `${i.keyword} ${i.args}`).join("\n");
    for (const dev of Object.keys(pkg.devDependencies)) expect(finalText, dev).to.not.include(dev);
  });

  it("runs as the numeric non-root user 65532", () => {
    const users = all(final, "USER");
    expect(users).to.have.length.greaterThan(0);
    expect(users[users.length - 1]!.args).to.equal("65532:65532");
    const lastUser = final.instructions.lastIndexOf(users[users.length - 1]!);
    const entry = final.instructions.findIndex((i) => i.keyword === "ENTRYPOINT");
    expect(lastUser).to.be.lessThan(entry);
    expect(runs(final).some((c) => c.includes("useradd --uid 65532"))).to.equal(true);
  });

  it("ships nsenter (util-linux) for the node agent and cleans the apt lists", () => {
    const commands = runs(final);
    expect(commands.some((c) => /^apt-get install -y --no-install-recommends .*\butil-linux\b/.test(c))).to.equal(true);
    expect(commands).to.include("rm -rf /var/lib/apt/lists/*");
  });

  it("has the OCI labels, with the license from package.json", () => {
    const labels = all(final, "LABEL").map((l) => l.args).join(" ");
    for (const key of ["title", "description", "licenses", "source", "version", "revision", "created", "base.name"]) {
      expect(labels).to.include(`org.opencontainers.image.${key}=`);
    }
    expect(labels).to.include(`org.opencontainers.image.licenses="${pkg.license}"`);
  });

  it("starts the CLI named in package.json bin, exec form, `run` by default", () => {
    const entry = all(final, "ENTRYPOINT");
    expect(entry).to.have.length(1);
    expect(JSON.parse(entry[0]!.args)).to.deep.equal(["node", `/app/${pkg.bin["olares-operator"]}`]);
    expect(JSON.parse(all(final, "CMD")[0]!.args)).to.deep.equal(["run"]);
    expect(all(final, "WORKDIR").map((w) => w.args)).to.deep.equal(["/app"]);
  });

  it("declares its health story: HEALTHCHECK NONE here, probes documented in docs/image.md", () => {
    expect(all(final, "HEALTHCHECK").map((h) => h.args)).to.deep.equal(["NONE"]);
    const doc = readFileSync(join(ROOT, "docs/image.md"), "utf8");
    expect(doc).to.include("/healthz");
    expect(doc).to.include("/readyz");
  });

  it("exposes the metrics port the chart probes", () => {
    const values = readFileSync(join(ROOT, "charts/olares-operator/values.yaml"), "utf8");
    const port = /^metricsPort: (\d+)$/m.exec(values)?.[1];
    expect(all(final, "EXPOSE").map((e) => e.args)).to.deep.equal([port]);
  });
});

describe(".dockerignore", () => {
  const patterns = readFileSync(join(ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));

  it("keeps local build output, dependencies, VCS data and secrets out of the context", () => {
    for (const p of ["**/node_modules", "dist", ".cache", ".git", "test", "*.pem", "kubeconfig*"]) expect(patterns).to.include(p);
  });

  it("does not exclude anything the build stage copies", () => {
    const file = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
    const build = file.stages.find((s) => s.name === "build")!;
    const sources = all(build, "COPY").flatMap((c) => {
      const words = c.args.split(" ").filter((w) => !w.startsWith("--"));
      return words.slice(0, -1);
    });
    expect(sources).to.include.members(["package.json", "package-lock.json", "crds/", "operator/src/"]);
    for (const src of sources) {
      const top = src.replace(/\/$/, "").split("/")[0]!;
      expect(existsSync(join(ROOT, src)), `${src} exists`).to.equal(true);
      expect(patterns, `${src} is excluded by .dockerignore`).to.not.include(top);
      expect(patterns).to.not.include(src.replace(/\/$/, ""));
    }
  });
});
