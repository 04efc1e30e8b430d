// installation.manifest codec (the 8-field CSV olares-cli reads) and the release layout helpers.
import { expect } from "chai";
import {
  ManifestError,
  formatManifest,
  imageName,
  itemDownloadUrl,
  itemFilePath,
  itemSourceForArch,
  parseManifest,
} from "../../operator/src/contract/release/manifest.js";
import { installerDir, parseMd5SumFile, wizardArtifact } from "../../operator/src/contract/release/layout.js";
import { effectiveValue, envNameToResourceName, mergeUserEnvs, systemEnvObject } from "../../operator/src/contract/release/system-env.js";

const SUM = "0123456789abcdef0123456789abcdef";
const KUBEADM = `kubeadm-v1.33.3,pkg/kube/v1.33.3,,6b1b6b0c,${SUM},arm64/6b1b6b0c,${SUM},kubeadm`;
const IMAGE = `d41d8cd98f00b204e9800998ecf8427e.tar.gz,images,images.mf,d41d8cd98f00b204e9800998ecf8427e.tar.gz,${SUM},arm64/d41d8cd98f00b204e9800998ecf8427e.tar.gz,${SUM},docker.io/beclab/bfl:v0.4.1`;
const NO_URL = "cuda-driver-610.57.04.run,pkg/components,,,,,,cuda-driver";

describe("installation.manifest codec", () => {
  it("reads components, images and url-less items, and writes the same text back", () => {
    const text = [KUBEADM, IMAGE, NO_URL].join("\n") + "\n";
    const items = parseManifest(text);
    expect(items.map((i) => i.fileId)).to.deep.equal(["kubeadm", "docker.io/beclab/bfl:v0.4.1", "cuda-driver"]);
    expect(imageName(items[1]!)).to.equal("docker.io/beclab/bfl:v0.4.1");
    expect(imageName(items[0]!)).to.equal(undefined);
    expect(itemFilePath("/root/.olares/versions/v1.12.1", items[0]!)).to.equal("/root/.olares/versions/v1.12.1/pkg/kube/v1.33.3/kubeadm-v1.33.3");
    expect(itemSourceForArch(items[0]!, "arm64")).to.deep.equal({ url: "arm64/6b1b6b0c", checksum: SUM });
    expect(itemSourceForArch(items[2]!, "amd64")).to.equal(undefined);
    expect(formatManifest(items)).to.equal(text);
  });

  it("names the line and the rule for bad input", () => {
    expect(() => parseManifest(`${KUBEADM}\nolaresd,pkg,,x,y`)).to.throw(ManifestError, "line 2: expected 8 comma-separated fields, found 5");
    expect(() => parseManifest(KUBEADM.replace(SUM, "nothex"))).to.throw(ManifestError, "checksum_amd64 nothex is not an MD5");
    expect(() => parseManifest(`${KUBEADM}\n${KUBEADM}`)).to.throw(ManifestError, "duplicate fileid kubeadm");
    expect(() => parseManifest(KUBEADM.replace("pkg/kube/v1.33.3", "../etc"))).to.throw(ManifestError, "must be relative");
  });

  it("joins CDN object names onto the CDN base", () => {
    expect(itemDownloadUrl("https://cdn.olares.com/", "arm64/abc")).to.equal("https://cdn.olares.com/arm64/abc");
    expect(itemDownloadUrl("https://mirror.example/olares", "abc")).to.equal("https://mirror.example/olares/abc");
  });
});

describe("release layout", () => {
  it("computes the wizard URLs as olares-cli download wizard", () => {
    expect(wizardArtifact("https://cdn.olares.com", "1.12.1")).to.deep.include({
      tarballUrl: "https://cdn.olares.com/install-wizard-v1.12.1.tar.gz",
      checksumUrl: "https://cdn.olares.com/install-wizard-v1.12.1.md5sum.txt",
    });
    expect(wizardArtifact("https://cdn.olares.com", "1.12.1", { repoPath: "/olares-one/", releaseId: "abc1234" }).tarballUrl).to.equal("https://cdn.olares.com/olares-one/install-wizard-v1.12.1.abc1234.tar.gz");
    expect(parseMd5SumFile(`${SUM}  install-wizard-v1.12.1.tar.gz\n`)).to.equal(SUM);
    expect(parseMd5SumFile("<html>not found</html>")).to.equal(undefined);
    expect(installerDir("/root/.olares/", "1.12.1")).to.equal("/root/.olares/versions/v1.12.1");
  });
});

describe("SystemEnv and user-env", () => {
  it("names objects as EnvNameToResourceName and lets the installer's environment replace the default", () => {
    expect(envNameToResourceName("OLARES_SYSTEM_CDN_SERVICE")).to.equal("olares-system-cdn-service");
    expect(() => envNameToResourceName("1BAD")).to.throw("must match");
    const obj = systemEnvObject({ envName: "OLARES_SYSTEM_CDN_SERVICE", default: "https://cdn.olares.com", type: "url" }, { OLARES_SYSTEM_CDN_SERVICE: "https://mirror.example" });
    expect(obj).to.deep.include({ apiVersion: "sys.bytetrade.io/v1alpha1", kind: "SystemEnv", envName: "OLARES_SYSTEM_CDN_SERVICE", default: "https://mirror.example" });
    expect(obj.metadata.name).to.equal("olares-system-cdn-service");
    expect(effectiveValue({ envName: "X", value: "", default: "d" })).to.equal("d");
    expect(() => systemEnvObject({ envName: "OLARES_SYSTEM_CDN_SERVICE", type: "url" }, { OLARES_SYSTEM_CDN_SERVICE: "ftp://x" })).to.throw("not an http(s) URL");
  });

  it("merges only missing user envs on upgrade (1.12-era)", () => {
    const live = { apiVersion: "v1", userEnvs: [{ envName: "OLARES_USER_THEME", default: "dark" }] };
    const release = { apiVersion: "v1", userEnvs: [{ envName: "OLARES_USER_THEME", default: "light" }, { envName: "OLARES_USER_LANGUAGE", default: "en-US" }] };
    const { file, added } = mergeUserEnvs(live, release);
    expect(added).to.deep.equal(["OLARES_USER_LANGUAGE"]);
    expect(file.userEnvs.map((e) => `${e.envName}=${e.default}`)).to.deep.equal(["OLARES_USER_THEME=dark", "OLARES_USER_LANGUAGE=en-US"]);
  });
});
