// For every wizard chart, the keys olares-cli passes (read from its source, cited per row), and a check
// that our pure values function provides each one; then real helm renders every fixture chart with our
// values (the fixture charts fail on a missing installer key, naming it).
import { expect } from "chai";
import { encryptPassword, renderReleaseList, type ReleaseEntry } from "../../operator/src/render/releases/index.js";
import { HELMS, fetchTools, run } from "../chart/tools.js";
import { aliceSpec, randoms, unpackFixture, type Unpacked } from "./helpers.js";

/** chart key (spec.coreServices key) → the source read and the keys it passes. */
const INSTALLER_KEYS: Record<string, { source: string; keys: string[] }> = {
  account: {
    // SetAccountValues renders account/values.yaml (user.*); nat_gateway_ip only with a NAT gateway.
    source: "cli/pkg/terminus/account.go@0ed7b74b",
    keys: ["user.name", "user.password", "user.email", "user.terminus_name"],
  },
  settings: {
    // SetSettingsValues writes settings/values.yaml from the template.
    source: "cli/pkg/terminus/settings.go@bd5026e0, cli/pkg/terminus/templates/settings.go@bd5026e0",
    keys: ["cluster_id", "s3_sts", "s3_ak", "s3_sk", "domainName", "selfHosted", "terminusd"],
  },
  "os-platform": {
    source: "cli/pkg/terminus/ossystem.go@56aaf78b (InstallOsSystem vals)",
    keys: ["backup.bucket", "backup.key_prefix", "backup.is_cloud_version", "backup.sync_secret", "gpu", "s3_bucket", "fs_type", "rootPath", "sharedlib"],
  },
  "os-framework": {
    source: "cli/pkg/terminus/ossystem.go@56aaf78b (the same vals map)",
    keys: ["backup.bucket", "backup.key_prefix", "backup.is_cloud_version", "backup.sync_secret", "gpu", "s3_bucket", "fs_type", "rootPath", "sharedlib"],
  },
  launcher: {
    source: "cli/pkg/terminus/launcher.go@df5b0859 (InstallBFL); *_rand16 re-fed as the upgrade does (upgrade/base.go@01f62215)",
    keys: ["bfl.nodeport", "bfl.nodeport_ingress_http", "bfl.nodeport_ingress_https", "bfl.username", "bfl.admin_user", "bfl.appKey", "bfl.appSecret", "rootPath", "bfl.userspace_rand16", "bfl.appcache_rand16", "bfl.dbdata_rand16"],
  },
  desktop: { source: "cli/pkg/terminus/apps.go@b57e85c3 (PrepareAppValues)", keys: appKeys() },
  files: { source: "cli/pkg/terminus/apps.go@b57e85c3 (PrepareAppValues)", keys: appKeys() },
  settingsApp: { source: "cli/pkg/terminus/apps.go@b57e85c3 (PrepareAppValues)", keys: appKeys() },
  wizard: { source: "cli/pkg/terminus/apps.go@b57e85c3 (PrepareAppValues)", keys: appKeys() },
  hami: { source: "cli/pkg/gpu/tasks.go@0c65ee70 (InstallPlugin: empty map)", keys: [] },
};

function appKeys(): string[] {
  const keys = [
    "bfl.nodeport", "bfl.nodeport_ingress_http", "bfl.nodeport_ingress_https", "bfl.username", "bfl.admin_user", "bfl.url", "bfl.nodeName",
    "pvc.userspace", "userspace.userData", "userspace.appData", "userspace.appCache", "userspace.dbdata",
    "desktop.nodeport", "global.bfl.username", "debugVersion", "gpu", "fs_type", "rootPath",
  ];
  // getAppSecrets: os.<app>.{appKey,appSecret} for every built-in app; appstore also gets marketProvider.
  for (const app of ["portfolio", "vault", "desktop", "message", "wise", "search", "appstore", "notification", "dashboard", "settings", "profile", "agent", "files", "studio"]) {
    keys.push(`os.${app}.appKey`, `os.${app}.appSecret`);
  }
  keys.push("os.appstore.marketProvider");
  return keys;
}

function has(values: Record<string, unknown>, dotted: string): boolean {
  let cur: unknown = values;
  for (const p of dotted.split(".")) {
    if (cur === null || typeof cur !== "object" || !(p in (cur as object))) return false;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur !== undefined;
}

const BFL = { annotations: { userspace_pv: "pv-userspace-alice-x", userspace_hostpath: "/olares/rootfs/userspace/pvc-userspace-alice-x", appcache_hostpath: "/olares/userdata/Cache/alice", dbdata_hostpath: "/olares/userdata/dbdata/alice" }, nodeName: "sim-node-0", nodeAddress: "10.0.0.10" };

describe("values per chart, key for key with olares-cli", function () {
  this.timeout(120_000);
  let rel: Unpacked;
  let entries: ReleaseEntry[];

  before(async () => {
    rel = await unpackFixture();
    entries = renderReleaseList({ spec: aliceSpec({ gpu: { enabled: "true" } }), source: rel, ownerPassword: "s3cret-pass", randoms: randoms(), gpuNodes: 1, bfl: BFL }).entries;
  });
  after(() => rel?.cleanup());

  for (const [key, row] of Object.entries(INSTALLER_KEYS)) {
    const chart = key === "settingsApp" ? "settings" : key;
    const phase = key === "settingsApp" ? "apps" : undefined;
    it(`${key === "settingsApp" ? "apps/settings" : key}: every key of ${row.source}`, () => {
      const entry = entries.find((e) => e.key === chart && (chart !== "settings" || (phase ? e.phase === phase : e.phase !== "apps")));
      expect(entry, `a release for ${chart}`).to.not.equal(undefined);
      const missing = row.keys.filter((k) => !has(entry!.release.values, k));
      expect(missing, `keys the installer passes that our values lack`).to.deep.equal([]);
      if (row.keys.length === 0) expect(entry!.release.values).to.deep.equal({});
    });
  }

  it("encodes the owner's password as the installer does: md5(password + \"@Olares2025\")", () => {
    const account = entries.find((e) => e.key === "account")!.release.values as { user: Record<string, string> };
    expect(account.user.password).to.equal(encryptPassword("s3cret-pass")).and.match(/^[0-9a-f]{32}$/);
    // echo -n "s3cret-pass@Olares2025" | md5sum
    expect(account.user.password).to.equal("a531b46bc3c649823e8f01377cb471a3");
    expect(account.user.terminus_name).to.equal("alice@example.com");
  });

  it("rootPath, sharedlib and the apps' rootPath drop a trailing slash of spec.storage.rootPath (storage.OlaresRootDir)", () => {
    const spec = aliceSpec({ storage: { type: "LocalFS", rootPath: "/data/olares/" } });
    const list = renderReleaseList({ spec, source: rel, ownerPassword: "pw", randoms: randoms(), gpuNodes: 0, bfl: BFL }).entries;
    const v = (key: string) => list.find((e) => e.key === key && e.phase !== "apps")!.release.values as Record<string, unknown>;
    expect(v("os-framework").rootPath).to.equal("/data/olares");
    expect(v("os-framework").sharedlib).to.equal("/data/olares/share");
    expect(v("launcher").rootPath).to.equal("/data/olares");
    expect((list.find((e) => e.key === "desktop")!.release.values as Record<string, unknown>).rootPath).to.equal("/data/olares");
  });

  it("once the install ran and the owner activated, the install list no longer applies the wizard app and keeps it out of pruning (BFL removes it)", () => {
    const input = { spec: aliceSpec(), source: rel, ownerPassword: "pw", randoms: randoms(), gpuNodes: 0, bfl: BFL };
    const before = renderReleaseList(input);
    expect(before.entries.filter((e) => e.phase === "apps").map((e) => e.key)).to.include("wizard");
    expect(before.retained).to.equal(undefined);
    // Activated during the first install (before the apps ran): the install still applies the wizard.
    expect(renderReleaseList({ ...input, ownerActivated: true }).entries.map((e) => e.key)).to.include("wizard");
    // While Helm still holds it, it stays listed (current: no helm run); once BFL removed it, it is not applied.
    expect(renderReleaseList({ ...input, ownerActivated: true, installCompleted: true, wizardInstalled: true }).entries.map((e) => e.key)).to.include("wizard");
    const after = renderReleaseList({ ...input, ownerActivated: true, installCompleted: true });
    expect(after.entries.filter((e) => e.phase === "apps").map((e) => e.key)).to.deep.equal(["desktop", "files", "settings"]);
    expect(after.retained).to.deep.equal([{ name: "wizard", namespace: "user-space-alice" }]);
    // Disabled by the spec: neither applied nor retained (the prune step removes ours).
    const disabled = renderReleaseList({ ...input, spec: aliceSpec({ coreServices: { wizard: { enabled: false } } } as never), ownerActivated: true, installCompleted: true });
    expect(disabled.retained).to.equal(undefined);
  });

  for (const helm of HELMS) {
    it(`every fixture chart renders with our values (${helm.label}); a missing key fails naming it`, async () => {
      fetchTools();
      for (const e of entries) {
        const r = await run(helm.bin, ["template", e.release.name, e.release.chart.path, "--namespace", e.release.namespace, "-f", "-"], JSON.stringify(e.release.values));
        expect(r.code, `${e.release.name}: ${r.stderr}`).to.equal(0);
      }
      const platform = entries.find((e) => e.key === "os-platform")!.release;
      const { sharedlib: _dropped, ...withoutSharedlib } = platform.values as Record<string, unknown>;
      const r = await run(helm.bin, ["template", "os-platform", platform.chart.path, "-f", "-"], JSON.stringify(withoutSharedlib));
      // values.yaml defaults would mask it: the fixture chart ships defaults like the real one, so reset them.
      const r2 = await run(helm.bin, ["template", "os-platform", platform.chart.path, "--set", "sharedlib=null", "-f", "-"], JSON.stringify(withoutSharedlib));
      expect(r.code).to.equal(0);
      expect(r2.code).to.not.equal(0);
      expect(r2.stderr).to.include("values: sharedlib is required");
    });
  }
});
