import { expect } from "chai";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createHost, type Host } from "../../operator/src/agent/host/index.js";
import { RecordingExecutor } from "../support/recording-executor.js";
import {
  detectGpus,
  gpuLabelPatch,
  gpuLabels,
  parseDriverVersion,
  parseNvidiaSmi,
  sanitizeLabelValue,
} from "../../operator/src/agent/gpu-detect.js";
import { agentRig, type AgentRig } from "./helpers.js";

const PROC_VERSION = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.133.20  Release Build  (dvs-builder@U16-I3-B03-4-3)  Fri Mar 14 2025\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n";
const SMI = `+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 570.133.20             Driver Version: 570.133.20     CUDA Version: 12.8     |
|-----------------------------------------+------------------------+----------------------+`;

async function pciDevice(root: string, slot: string, vendor: string, cls: string, device: string): Promise<void> {
  // Real sysfs: /sys/bus/pci/devices/<slot> is a symlink into /sys/devices/pci0000:00/...
  const real = path.join(root, "sys/devices/pci0000:00", slot);
  await mkdir(real, { recursive: true });
  await writeFile(path.join(real, "vendor"), `${vendor}\n`);
  await writeFile(path.join(real, "class"), `${cls}\n`);
  await writeFile(path.join(real, "device"), `${device}\n`);
  await mkdir(path.join(root, "sys/bus/pci/devices"), { recursive: true });
  await symlink(real, path.join(root, "sys/bus/pci/devices", slot));
}

describe("GPU detection", () => {
  let root: string;
  let exec: RecordingExecutor;
  let host: Host;
  let rig: AgentRig | undefined;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "olares-gpu-"));
    exec = new RecordingExecutor();
    host = createHost({ root, exec, mode: "direct" });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rig?.cleanup();
    rig = undefined;
  });

  it("finds NVIDIA display devices by vendor 0x10de and class 0x03xxxx, ignoring other NVIDIA functions and vendors", async () => {
    await pciDevice(root, "0000:00:02.0", "0x8086", "0x030000", "0x4680"); // Intel iGPU
    await pciDevice(root, "0000:01:00.0", "0x10de", "0x030000", "0x2204"); // RTX 3090
    await pciDevice(root, "0000:01:00.1", "0x10de", "0x040300", "0x1aef"); // its HDMI audio
    const facts = await detectGpus(host);
    expect(facts.devices).to.deep.equal([{ slot: "0000:01:00.0", deviceId: "0x2204" }]);
    expect(gpuLabels(facts)).to.deep.equal({
      "olares.com/gpu.nvidia": "true",
      "olares.com/gpu.model": "10de-2204",
      "olares.com/gpu.driver-version": null,
      "olares.com/gpu.cuda-version": null,
      // Olares's own labels (what HAMi and the UI select on): no CUDA found, so not supported
      "gpu.bytetrade.io/driver": null,
      "gpu.bytetrade.io/cuda": null,
      "gpu.bytetrade.io/cuda-supported": "false",
    });
  });

  it("reads model, driver and CUDA versions from lspci, /proc/driver/nvidia and nvidia-smi", async () => {
    await pciDevice(root, "0000:01:00.0", "0x10de", "0x030200", "0x2330");
    await mkdir(path.join(root, "usr/bin"), { recursive: true });
    await writeFile(path.join(root, "usr/bin/lspci"), "");
    await writeFile(path.join(root, "usr/bin/nvidia-smi"), "");
    await mkdir(path.join(root, "proc/driver/nvidia"), { recursive: true });
    await writeFile(path.join(root, "proc/driver/nvidia/version"), PROC_VERSION);
    exec.on(["lspci", "-mm", "-s", "0000:01:00.0"], { stdout: '01:00.0 "3D controller" "NVIDIA Corporation" "GH100 [H100 SXM5 80GB]" -ra1 "NVIDIA Corporation" "Device 16c1"\n' });
    exec.on(["nvidia-smi"], { stdout: SMI });
    const facts = await detectGpus(host);
    expect(facts).to.deep.equal({ devices: [{ slot: "0000:01:00.0", deviceId: "0x2330", model: "H100 SXM5 80GB" }], driverVersion: "570.133.20", cudaVersion: "12.8" });
    expect(gpuLabels(facts)).to.deep.equal({
      "olares.com/gpu.nvidia": "true",
      "olares.com/gpu.model": "H100-SXM5-80GB",
      "olares.com/gpu.driver-version": "570.133.20",
      "olares.com/gpu.cuda-version": "12.8",
      "gpu.bytetrade.io/driver": "570.133.20",
      "gpu.bytetrade.io/cuda": "12.8",
      "gpu.bytetrade.io/cuda-supported": "true",
    });
  });

  it("prefers the model the loaded driver reports", async () => {
    await pciDevice(root, "0000:41:00.0", "0x10de", "0x030000", "0x2684");
    await mkdir(path.join(root, "proc/driver/nvidia/gpus/0000:41:00.0"), { recursive: true });
    await writeFile(path.join(root, "proc/driver/nvidia/gpus/0000:41:00.0/information"), "Model: \t\t NVIDIA GeForce RTX 4090\nIRQ:   187\n");
    const facts = await detectGpus(host);
    expect(facts.devices[0]!.model).to.equal("NVIDIA GeForce RTX 4090");
    expect(exec.calls).to.deep.equal([]);
  });

  it("parses driver and CUDA versions and sanitizes label values", () => {
    expect(parseDriverVersion("NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun May 12 19:39:15 UTC 2024")).to.equal("535.183.01");
    expect(parseDriverVersion(PROC_VERSION)).to.equal("570.133.20");
    expect(parseNvidiaSmi(SMI)).to.deep.equal({ driverVersion: "570.133.20", cudaVersion: "12.8" });
    expect(sanitizeLabelValue("  NVIDIA GeForce RTX 4090 (rev a1) ")).to.equal("NVIDIA-GeForce-RTX-4090-rev-a1");
    expect(sanitizeLabelValue("x".repeat(70) + "!")).to.have.length(63);
    expect(sanitizeLabelValue("***")).to.equal(undefined);
  });

  it("computes a minimal label patch: sets what differs, removes labels when no GPU is left", () => {
    const have = { "olares.com/gpu.nvidia": "true", "olares.com/gpu.model": "A100", other: "x" };
    expect(gpuLabelPatch(have, gpuLabels({ devices: [] }))).to.deep.equal({ "olares.com/gpu.nvidia": null, "olares.com/gpu.model": null });
    // a GPU without a CUDA version found: Olares's cuda-supported label says false
    expect(gpuLabelPatch(have, gpuLabels({ devices: [{ slot: "s", deviceId: "0x1", model: "A100" }] }))).to.deep.equal({ "gpu.bytetrade.io/cuda-supported": "false" });
  });

  it("labels the Node from the agent and removes the labels when the GPU is gone", async () => {
    rig = await agentRig();
    await pciDevice(rig.root, "0000:01:00.0", "0x10de", "0x030000", "0x2204");
    await rig.agent.sync();
    expect(rig.node().metadata.labels).to.include({ "olares.com/gpu.nvidia": "true", "olares.com/gpu.model": "10de-2204" });
    await rm(path.join(rig.root, "sys/bus/pci/devices/0000:01:00.0"));
    rig.agent.checkNow();
    await rig.agent.sync();
    expect(rig.node().metadata.labels).to.not.have.property("olares.com/gpu.nvidia");
    expect(rig.node().metadata.labels).to.not.have.property("olares.com/gpu.model");
  });
});
