// kind "imageImport": the images of installation.manifest imported into containerd with ctr, as
// olares-cli's PreloadImages (cli/pkg/images/load.go@090e562c): an image containerd already has is
// skipped; a download cached with the manifest's MD5 is not fetched again; the gzipped archive is
// imported under its reference (--index-name) and pinned (io.cri-containerd.pinned=pinned) so the
// kubelet's image GC keeps it. Images are never removed on undo (the installer does not either).
import { gunzipSync } from "node:zlib";
import type { ImageImportTask } from "../../contract/index.js";
import { fetchReleaseFile } from "./release-download.js";
import { isGzip } from "./tar.js";
import type { TaskContext, TaskModule } from "./types.js";

export const PINNED_LABEL = "io.cri-containerd.pinned=pinned";

/** A reference as containerd names it (distribution's ParseNormalizedNamed): docker.io/library/x:latest. */
export function normalizeRef(ref: string): string {
  const slash = ref.indexOf("/");
  const first = slash < 0 ? "" : ref.slice(0, slash);
  const hasDomain = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  let name = hasDomain ? ref : `docker.io/${slash < 0 ? "library/" : ""}${ref}`;
  const lastPart = name.slice(name.lastIndexOf("/") + 1);
  if (!lastPart.includes(":") && !name.includes("@")) name += ":latest";
  return name;
}

function ctrArgv(task: ImageImportTask, args: string[]): string[] {
  return ["ctr", ...(task.address ? ["--address", task.address] : []), "-n", task.namespace, ...args];
}

/** Host path as the command sees it: inside the host (chroot/nsenter), or the agent's own path (direct). */
function commandPath(ctx: TaskContext, p: string): string {
  return ctx.host.mode === "direct" ? ctx.host.hostPath(p) : p;
}

async function presentRefs(ctx: TaskContext, task: ImageImportTask): Promise<Set<string>> {
  const r = await ctx.host.run(ctrArgv(task, ["images", "ls", "-q"]));
  if (r.exitCode !== 0) throw new Error(`ctr images ls: ${(r.stderr || r.stdout).trim().split("\n").pop() ?? `exit ${r.exitCode}`}`);
  return new Set(r.stdout.split("\n").map((l) => l.trim()).filter(Boolean));
}

async function missing(ctx: TaskContext, task: ImageImportTask): Promise<ImageImportTask["images"]> {
  const present = await presentRefs(ctx, task);
  return task.images.filter((img) => !present.has(normalizeRef(img.ref)));
}

function summary(images: ImageImportTask["images"], total: number): string {
  const names = images.slice(0, 3).map((i) => i.ref).join(", ");
  return `${images.length} of ${total} images not in containerd (${names}${images.length > 3 ? ", …" : ""})`;
}

export const imageImportTask: TaskModule<ImageImportTask> = {
  async check(ctx, task) {
    const todo = await missing(ctx, task);
    return todo.length ? { upToDate: false, diff: summary(todo, task.images.length) } : { upToDate: true };
  },
  async apply(ctx, task) {
    const todo = await missing(ctx, task);
    for (const [i, img] of todo.entries()) {
      const ref = normalizeRef(img.ref);
      const { data } = await fetchReleaseFile(ctx, task.baseDir, img.file);
      // ctr reads a plain tar; the release ships gzipped OCI archives (upload-images.sh).
      const tarPath = `${task.baseDir}/${img.file.path}/.import-${img.file.filename.replace(/\.(tar\.gz|tgz)$/, "")}.tar`;
      await ctx.host.writeFile(tarPath, isGzip(data) ? gunzipSync(data) : data, { mode: 0o600 });
      try {
        const r = await ctx.host.run(ctrArgv(task, ["images", "import", "--index-name", ref, ...(task.snapshotter ? ["--snapshotter", task.snapshotter] : []), commandPath(ctx, tarPath)]), { timeoutMs: 30 * 60_000 });
        const err = (r.stderr || r.stdout).trim();
        if (r.exitCode !== 0 && /no match for platform/.test(err)) {
          ctx.log.warn(`image ${img.ref} has no match for this platform, skipped (as the installer)`);
          continue;
        }
        if (r.exitCode !== 0) throw new Error(`ctr images import ${img.ref} (${img.file.filename}): ${err.split("\n").pop() ?? `exit ${r.exitCode}`}`);
      } finally {
        await ctx.host.remove(tarPath);
      }
      const pin = await ctx.host.run(ctrArgv(task, ["images", "label", ref, PINNED_LABEL]));
      if (pin.exitCode !== 0) ctx.log.warn(`pin image ${ref}: ${pin.stderr.trim()}`);
      ctx.log.info(`(${i + 1}/${todo.length}) imported image ${img.ref}`);
    }
  },
  async verify(ctx, task) {
    const todo = await missing(ctx, task);
    if (todo.length) throw new Error(`verify: ${summary(todo, task.images.length)}`);
  },
  async undo() {
    // Imported images stay (olares-cli never removes them; containerd's GC and the kubelet own them).
  },
  async managedFiles() {
    return [];
  },
};
