// Decoding of the Kubernetes protobuf envelope for the few simple kinds kubectl's typed `create`
// subcommands and drain send (namespace, configmap, secret, serviceaccount, eviction). Other kinds answer 415.
import { unsupportedMediaType } from "./errors.js";
import type { Json, KObj } from "./types.js";

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { no: number; wire: number; value: bigint | Buffer };

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error("truncated varint");
      const b = buf[i++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, wire, value: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const str = (f: Field) => (f.value as Buffer).toString("utf8");

function map(entries: Field[], asBase64 = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    let k = "";
    let v = "";
    for (const f of fields(e.value as Buffer)) {
      if (f.no === 1) k = str(f);
      if (f.no === 2) v = asBase64 ? (f.value as Buffer).toString("base64") : str(f);
    }
    out[k] = v;
  }
  return out;
}

function objectMeta(buf: Buffer): Json {
  const fs = fields(buf);
  const m: Json = {};
  const one = (no: number) => fs.find((f) => f.no === no);
  if (one(1)) m.name = str(one(1)!);
  if (one(2)) m.generateName = str(one(2)!);
  if (one(3)) m.namespace = str(one(3)!);
  const labels = fs.filter((f) => f.no === 11);
  const annotations = fs.filter((f) => f.no === 12);
  const finalizers = fs.filter((f) => f.no === 14);
  if (labels.length) m.labels = map(labels);
  if (annotations.length) m.annotations = map(annotations);
  if (finalizers.length) m.finalizers = finalizers.map(str);
  return m;
}

const DECODERS: Record<string, (fs: Field[], obj: KObj) => void> = {
  // policy/v1 Eviction (kubectl drain): only the target's metadata matters.
  Eviction() {},
  // DELETE bodies of typed clients (kubectl drain without eviction, kubectl delete of typed objects).
  DeleteOptions(fs, obj) {
    const grace = fs.find((f) => f.no === 1);
    if (grace) obj.gracePeriodSeconds = Number(grace.value as bigint);
    const orphan = fs.find((f) => f.no === 3);
    if (orphan) obj.orphanDependents = orphan.value === 1n;
    const policy = fs.find((f) => f.no === 4);
    if (policy) obj.propagationPolicy = str(policy);
    const dryRun = fs.filter((f) => f.no === 5);
    if (dryRun.length) obj.dryRun = dryRun.map(str);
  },
  Namespace(fs, obj) {
    const spec = fs.find((f) => f.no === 2);
    if (spec) {
      const fin = fields(spec.value as Buffer).filter((f) => f.no === 1).map(str);
      if (fin.length) obj.spec = { finalizers: fin };
    }
  },
  ConfigMap(fs, obj) {
    const data = fs.filter((f) => f.no === 2);
    const binary = fs.filter((f) => f.no === 3);
    if (data.length) obj.data = map(data);
    if (binary.length) obj.binaryData = map(binary, true);
    const imm = fs.find((f) => f.no === 4);
    if (imm) obj.immutable = imm.value === 1n;
  },
  Secret(fs, obj) {
    const data = fs.filter((f) => f.no === 2);
    if (data.length) obj.data = map(data, true);
    const type = fs.find((f) => f.no === 3);
    if (type) obj.type = str(type);
    const stringData = fs.filter((f) => f.no === 4);
    if (stringData.length) obj.stringData = map(stringData);
    const imm = fs.find((f) => f.no === 5);
    if (imm) obj.immutable = imm.value === 1n;
  },
  ServiceAccount(fs, obj) {
    const pulls = fs.filter((f) => f.no === 3);
    if (pulls.length) obj.imagePullSecrets = pulls.map((p) => ({ name: str(fields(p.value as Buffer).find((f) => f.no === 1)!) }));
    const automount = fs.find((f) => f.no === 4);
    if (automount) obj.automountServiceAccountToken = automount.value === 1n;
  },
};

/** Decode a protobuf request body; throws 415 for kinds the simulator cannot decode. */
export function decodeProtobuf(body: Buffer): KObj {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw unsupportedMediaType("application/vnd.kubernetes.protobuf (missing k8s envelope)");
  const unknown = fields(body.subarray(4));
  const typeMeta = unknown.find((f) => f.no === 1);
  const raw = unknown.find((f) => f.no === 2);
  let apiVersion = "";
  let kind = "";
  if (typeMeta) {
    for (const f of fields(typeMeta.value as Buffer)) {
      if (f.no === 1) apiVersion = str(f);
      if (f.no === 2) kind = str(f);
    }
  }
  const decoder = DECODERS[kind];
  const expectedVersions = kind === "Eviction" ? ["policy/v1"] : kind === "DeleteOptions" ? ["v1", "meta.k8s.io/v1"] : ["v1"];
  if (!decoder || !expectedVersions.includes(apiVersion) || !raw) throw unsupportedMediaType(`application/vnd.kubernetes.protobuf for ${kind || "unknown kind"}; the simulator decodes protobuf only for v1 Namespace, ConfigMap, Secret, ServiceAccount, DeleteOptions and policy/v1 Eviction — send JSON (kubectl create -f / apply)`);
  const fs = fields(raw.value as Buffer);
  const meta = kind === "DeleteOptions" ? undefined : fs.find((f) => f.no === 1);
  const obj: KObj = { apiVersion, kind, metadata: meta ? objectMeta(meta.value as Buffer) : {} };
  decoder(fs, obj);
  return obj;
}
