// The release pipeline users pull from: .github/workflows/release.yml builds the image for amd64 and
// arm64 with buildx, pushes it and the OCI chart on a tag, signs both with cosign and attests
// provenance. No container engine runs here, so this checks its structure and that the image name and
// tag agree with the chart's defaults (a user installing the chart pulls exactly what a tag publishes).
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

const ROOT = join(import.meta.dirname, "../..");
type Step = { uses?: string; run?: string; if?: string; with?: Record<string, unknown>; name?: string; id?: string };
type Job = { steps: Step[]; needs?: string | string[]; permissions?: Record<string, string>; if?: string };
const workflow = parse(readFileSync(join(ROOT, ".github/workflows/release.yml"), "utf8")) as {
  on: { push: { tags: string[] } };
  env: Record<string, string>;
  jobs: Record<string, Job>;
};
const values = parse(readFileSync(join(ROOT, "charts/olares-operator/values.yaml"), "utf8")) as { image: { repository: string; tag: string } };
const chart = parse(readFileSync(join(ROOT, "charts/olares-operator/Chart.yaml"), "utf8")) as { version: string; appVersion: string; name: string };

const step = (job: string, uses: string) => workflow.jobs[job]!.steps.find((s) => s.uses?.startsWith(uses));
const runs = (job: string) => workflow.jobs[job]!.steps.map((s) => s.run ?? "").join("\n");

describe("release workflow (.github/workflows/release.yml)", () => {
  it("runs on version tags", () => {
    expect(workflow.on.push.tags).to.deep.equal(["v*.*.*"]);
  });

  it("publishes the image the chart defaults to, tagged as the chart's appVersion", () => {
    expect(workflow.env.IMAGE).to.equal(values.image.repository);
    expect(values.image.tag, "empty tag = appVersion").to.equal("");
    const meta = step("image", "docker/metadata-action")!;
    expect(String(meta.with!.tags)).to.include("type=semver,pattern=v{{version}}");
    expect(chart.appVersion).to.match(/^v\d+\.\d+\.\d+$/);
    expect(`v${chart.version}`).to.equal(chart.appVersion);
    expect(runs("image")).to.include("charts/olares-operator/Chart.yaml").and.include("appVersion");
  });

  it("builds amd64 and arm64 with buildx and pushes only on a tag", () => {
    expect(step("image", "docker/setup-buildx-action")).to.not.equal(undefined);
    expect(step("image", "docker/setup-qemu-action")).to.not.equal(undefined);
    const build = step("image", "docker/build-push-action")!;
    expect(String(build.with!.platforms).split(",")).to.have.members(["linux/amd64", "linux/arm64"]);
    expect(build.with!.push).to.equal("${{ startsWith(github.ref, 'refs/tags/') }}");
    expect(build.with!.context).to.equal(".");
    expect(String(build.with!["build-args"])).to.include("VERSION=").and.include("REVISION=");
    expect(build.with!.sbom).to.equal(true);
  });

  it("signs the image with cosign and attests its provenance", () => {
    expect(step("image", "sigstore/cosign-installer")).to.not.equal(undefined);
    expect(runs("image")).to.match(/cosign sign --yes "\$\{IMAGE\}@\$\{\{ steps\.build\.outputs\.digest \}\}"/);
    expect(step("image", "actions/attest-build-provenance")).to.not.equal(undefined);
    expect(workflow.jobs.image!.permissions).to.include({ "id-token": "write", packages: "write" });
  });

  it("packages the chart, pushes it to an OCI registry and signs it", () => {
    const job = workflow.jobs.chart!;
    expect(job.needs).to.equal("image");
    expect(runs("chart")).to.include("hack/sync-chart-crds.sh --check").and.include("helm package charts/olares-operator");
    expect(runs("chart")).to.include('helm push dist/olares-operator-*.tgz "${CHART_REPO}"');
    expect(workflow.env.CHART_REPO).to.match(/^oci:\/\//);
    expect(runs("chart")).to.include("cosign sign --yes");
  });

  it("tests with the README's command before building", () => {
    expect(workflow.jobs.image!.needs).to.equal("test");
    expect(runs("test")).to.include(".ci/run");
  });

  it("the Dockerfile builds on both platforms (multi-arch base, no arch-specific downloads)", () => {
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).to.match(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-bookworm-slim/m);
    expect(dockerfile).to.not.match(/amd64|x86_64|aarch64/);
  });

  it("docs say how to build and load the image into an airgapped K3s", () => {
    const doc = readFileSync(join(ROOT, "docs/image.md"), "utf8");
    expect(doc).to.include("docker buildx build");
    expect(doc).to.include("k3s ctr images import");
    expect(doc).to.include("cosign verify");
  });
});
