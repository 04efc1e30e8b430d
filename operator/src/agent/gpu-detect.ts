// NVIDIA GPU detection on the host (PCI vendor 0x10de, display class 0x03xxxx) and the Node labels
// that describe it: olares.com/gpu.nvidia, .model, .driver-version, .cuda-version.
import { readdir } from "node:fs/promises";
import type { Host } from "./host/types.js";
import {
  LABEL_BYTETRADE_GPU_CUDA,
  LABEL_BYTETRADE_GPU_CUDA_SUPPORTED,
  LABEL_BYTETRADE_GPU_DRIVER,
  LABEL_GPU_CUDA_VERSION,
  LABEL_GPU_DRIVER_VERSION,
  LABEL_GPU_MODEL,
  LABEL_GPU_NVIDIA,
} from "../contract/index.js";

export const PCI_DEVICES_DIR = "/sys/bus/pci/devices";
export const NVIDIA_VENDOR_ID = "0x10de";
export const NVIDIA_PROC_VERSION = "/proc/driver/nvidia/version";
const PCI_SLOT = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

export interface GpuDevice {
  slot: string;
  deviceId: string;
  model?: string;
}

export interface GpuFacts {
  devices: GpuDevice[];
  driverVersion?: string;
  cudaVersion?: string;
}

/** A label value: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric; undefined when nothing is left. */
export function sanitizeLabelValue(raw: string): string | undefined {
  const trimEdges = (s: string) => s.replace(/^[^A-Za-z0-9]+/, "").replace(/[^A-Za-z0-9]+$/, "");
  const value = trimEdges(trimEdges(raw.replace(/[^A-Za-z0-9._-]+/g, "-")).slice(0, 63));
  return value === "" ? undefined : value;
}

async function readTrimmed(host: Host, path: string): Promise<string | undefined> {
  return (await host.readText(path))?.trim();
}

async function listPciSlots(host: Host): Promise<string[]> {
  try {
    return (await readdir(host.hostPath(PCI_DEVICES_DIR))).filter((s) => PCI_SLOT.test(s)).sort();
  } catch {
    return [];
  }
}

/** Model from the loaded driver (/proc/driver/nvidia/gpus/<slot>/information), else from `lspci -mm`. */
async function modelOf(host: Host, slot: string, hasLspci: boolean): Promise<string | undefined> {
  const info = await host.readText(`/proc/driver/nvidia/gpus/${slot}/information`);
  const fromDriver = info ? /^Model:\s*(.+)$/m.exec(info)?.[1]?.trim() : undefined;
  if (fromDriver) return fromDriver;
  if (!hasLspci) return undefined;
  const res = await host.run(["lspci", "-mm", "-s", slot], { timeoutMs: 10_000 });
  if (res.exitCode !== 0) return undefined;
  // 01:00.0 "VGA compatible controller" "NVIDIA Corporation" "GA102 [GeForce RTX 3090]" -ra1 ...
  const fields = [...res.stdout.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
  const name = fields[2];
  if (!name) return undefined;
  return /\[([^\]]+)\]/.exec(name)?.[1] ?? name;
}

export function parseDriverVersion(procVersion: string): string | undefined {
  return /Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)/.exec(procVersion)?.[1];
}

export function parseNvidiaSmi(output: string): { driverVersion?: string; cudaVersion?: string } {
  const driverVersion = /Driver Version:\s*(\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1];
  const cudaVersion = /CUDA Version:\s*(\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1];
  return { ...(driverVersion ? { driverVersion } : {}), ...(cudaVersion ? { cudaVersion } : {}) };
}

export async function detectGpus(host: Host): Promise<GpuFacts> {
  const devices: GpuDevice[] = [];
  const hasLspci = (await host.which("lspci")) !== undefined;
  for (const slot of await listPciSlots(host)) {
    const dir = `${PCI_DEVICES_DIR}/${slot}`;
    if ((await readTrimmed(host, `${dir}/vendor`))?.toLowerCase() !== NVIDIA_VENDOR_ID) continue;
    if (!(await readTrimmed(host, `${dir}/class`))?.toLowerCase().startsWith("0x03")) continue;
    const deviceId = (await readTrimmed(host, `${dir}/device`)) ?? "unknown";
    const model = await modelOf(host, slot, hasLspci);
    devices.push({ slot, deviceId, ...(model ? { model } : {}) });
  }
  if (devices.length === 0) return { devices };
  const proc = await host.readText(NVIDIA_PROC_VERSION);
  let driverVersion = proc ? parseDriverVersion(proc) : undefined;
  let cudaVersion: string | undefined;
  if ((await host.which("nvidia-smi")) !== undefined) {
    const res = await host.run(["nvidia-smi"], { timeoutMs: 20_000 });
    if (res.exitCode === 0) {
      const smi = parseNvidiaSmi(res.stdout);
      driverVersion ??= smi.driverVersion;
      cudaVersion = smi.cudaVersion;
    }
  }
  return { devices, ...(driverVersion ? { driverVersion } : {}), ...(cudaVersion ? { cudaVersion } : {}) };
}

const GPU_LABELS = [LABEL_GPU_NVIDIA, LABEL_GPU_MODEL, LABEL_GPU_DRIVER_VERSION, LABEL_GPU_CUDA_VERSION, LABEL_BYTETRADE_GPU_DRIVER, LABEL_BYTETRADE_GPU_CUDA, LABEL_BYTETRADE_GPU_CUDA_SUPPORTED];

/**
 * CUDA the Olares release's GPU stack runs on: olares-cli verifies 13.1 and labels anything outside its
 * supported set false (its set was not read); we accept CUDA 12 and later.
 */
export function cudaSupported(cudaVersion: string | undefined): boolean {
  const major = Number(cudaVersion?.split(".")[0]);
  return Number.isInteger(major) && major >= 12;
}

/** The GPU labels the node should carry: every GPU label key, null meaning "remove". */
export function gpuLabels(facts: GpuFacts): Record<string, string | null> {
  const out: Record<string, string | null> = Object.fromEntries(GPU_LABELS.map((k) => [k, null]));
  if (facts.devices.length === 0) return out;
  const first = facts.devices[0]!;
  out[LABEL_GPU_NVIDIA] = "true";
  out[LABEL_GPU_MODEL] = sanitizeLabelValue(first.model ?? `10de-${first.deviceId.replace(/^0x/, "")}`) ?? null;
  out[LABEL_GPU_DRIVER_VERSION] = facts.driverVersion ? (sanitizeLabelValue(facts.driverVersion) ?? null) : null;
  out[LABEL_GPU_CUDA_VERSION] = facts.cudaVersion ? (sanitizeLabelValue(facts.cudaVersion) ?? null) : null;
  // Olares's own labels: HAMi's device plugin, os-gpu/gpu-scheduler and the UI select cuda-supported=true.
  out[LABEL_BYTETRADE_GPU_DRIVER] = out[LABEL_GPU_DRIVER_VERSION] ?? null;
  out[LABEL_BYTETRADE_GPU_CUDA] = out[LABEL_GPU_CUDA_VERSION] ?? null;
  out[LABEL_BYTETRADE_GPU_CUDA_SUPPORTED] = cudaSupported(facts.cudaVersion) ? "true" : "false";
  return out;
}

/** Only the label changes a merge patch needs against the node's current labels (empty: nothing to do). */
export function gpuLabelPatch(current: Record<string, string> | undefined, wanted: Record<string, string | null>): Record<string, string | null> {
  const have = current ?? {};
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(wanted)) {
    if (v === null ? k in have : have[k] !== v) patch[k] = v;
  }
  return patch;
}
