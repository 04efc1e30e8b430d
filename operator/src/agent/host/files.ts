// Host file access under a root directory, resolving symlinks as the host would (relative to the root,
// not to the agent's filesystem), with atomic writes.
import { randomBytes } from "node:crypto";
import { promises as fs, constants as fsc } from "node:fs";
import path from "node:path";
import type { HostStat, PathSnapshot, WriteOptions } from "./types.js";

const MAX_SYMLINK_HOPS = 40;

export function assertHostPath(p: string): void {
  if (typeof p !== "string" || !p.startsWith("/") || p.includes("\0")) throw new Error(`host path ${JSON.stringify(p)} must be absolute`);
}

export class RootedFiles {
  constructor(readonly root: string) {}

  /** Where host path `p` lives in our filesystem, resolving host symlinks (last component only when `followLast`). */
  async resolve(p: string, followLast: boolean): Promise<string> {
    assertHostPath(p);
    let pending = p.split("/").filter(Boolean);
    let cur = "/";
    let hops = 0;
    while (pending.length > 0) {
      const [comp, ...rest] = pending as [string, ...string[]];
      if (comp === ".") {
        pending = rest;
        continue;
      }
      if (comp === "..") {
        cur = path.posix.dirname(cur);
        pending = rest;
        continue;
      }
      const candidate = path.posix.join(cur, comp);
      if (rest.length === 0 && !followLast) {
        cur = candidate;
        break;
      }
      let target: string | undefined;
      try {
        const st = await fs.lstat(this.join(candidate));
        if (st.isSymbolicLink()) target = await fs.readlink(this.join(candidate));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT" && (e as NodeJS.ErrnoException).code !== "ENOTDIR") throw e;
      }
      if (target === undefined) {
        cur = candidate;
        pending = rest;
        continue;
      }
      if (++hops > MAX_SYMLINK_HOPS) throw new Error(`too many symlinks resolving ${p}`);
      // A link written from the agent's side already names the root; it still stays under it.
      if (this.root !== "/" && target.startsWith(this.root + "/")) target = target.slice(this.root.length);
      pending = [...target.split("/").filter(Boolean), ...rest];
      if (target.startsWith("/")) cur = "/";
    }
    return this.join(cur);
  }

  /** Lexical join under the root (no symlink resolution). */
  join(p: string): string {
    return path.join(this.root, path.posix.normalize(p));
  }

  async exists(p: string): Promise<boolean> {
    try {
      await fs.lstat(await this.resolve(p, true));
      return true;
    } catch {
      return false;
    }
  }

  async read(p: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(await this.resolve(p, true));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw e;
    }
  }

  async readLink(p: string): Promise<string | undefined> {
    try {
      return await fs.readlink(await this.resolve(p, false));
    } catch {
      return undefined;
    }
  }

  async stat(p: string): Promise<HostStat | undefined> {
    try {
      const st = await fs.lstat(await this.resolve(p, false));
      const type = st.isFile() ? "file" : st.isDirectory() ? "directory" : st.isSymbolicLink() ? "symlink" : "other";
      return { type, size: st.size, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw e;
    }
  }

  async mkdir(p: string, mode: number): Promise<void> {
    await fs.mkdir(await this.resolve(p, true), { recursive: true, mode });
  }

  async isBinaryFile(p: string): Promise<boolean> {
    try {
      const real = await this.resolve(p, true);
      const st = await fs.stat(real);
      // Any regular file counts: a host's bin directories hold nothing else, and fixtures forget chmod.
      return st.isFile();
    } catch {
      return false;
    }
  }

  private async parentDir(p: string): Promise<string> {
    const dir = await this.resolve(path.posix.dirname(p), true);
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    return dir;
  }

  async writeFile(p: string, content: string | Buffer, opts: WriteOptions): Promise<void> {
    const dir = await this.parentDir(p);
    const final = path.join(dir, path.posix.basename(p));
    const tmp = path.join(dir, `.${path.posix.basename(p)}.olares-tmp-${randomBytes(4).toString("hex")}`);
    const fh = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
    try {
      await fh.writeFile(content);
      await fh.chmod(opts.mode);
      if (opts.owner) await fh.chown(opts.owner.uid, opts.owner.gid);
      await fh.sync();
    } catch (e) {
      await fh.close();
      await fs.rm(tmp, { force: true });
      throw e;
    }
    await fh.close();
    try {
      await fs.rename(tmp, final);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
    await syncDir(dir);
  }

  async symlink(p: string, target: string): Promise<void> {
    const dir = await this.parentDir(p);
    const tmp = path.join(dir, `.${path.posix.basename(p)}.olares-tmp-${randomBytes(4).toString("hex")}`);
    await fs.symlink(target, tmp);
    await fs.rename(tmp, path.join(dir, path.posix.basename(p)));
    await syncDir(dir);
  }

  async remove(p: string): Promise<void> {
    const real = await this.resolve(p, false);
    try {
      const st = await fs.lstat(real);
      if (st.isDirectory()) throw new Error(`refusing to remove directory ${p}`);
      await fs.rm(real, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }

  /** Removes a directory only when it is empty; absent or non-empty is no error. */
  async removeEmptyDir(p: string): Promise<void> {
    try {
      await fs.rmdir(await this.resolve(p, false));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "ENOTDIR") throw e;
    }
  }
  async snapshot(p: string): Promise<PathSnapshot> {
    const real = await this.resolve(p, false);
    let st;
    try {
      st = await fs.lstat(real);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return { type: "none" };
      throw e;
    }
    if (st.isSymbolicLink()) return { type: "symlink", target: await fs.readlink(real) };
    if (!st.isFile()) throw new Error(`${p} is not a regular file or symlink`);
    return { type: "file", mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, content: await fs.readFile(real) };
  }

  async restoreSnapshot(p: string, snap: PathSnapshot): Promise<void> {
    if (snap.type === "none") return this.remove(p);
    if (snap.type === "symlink") return this.symlink(p, snap.target);
    return this.writeFile(p, snap.content, { mode: snap.mode, owner: { uid: snap.uid, gid: snap.gid } });
  }
}

async function syncDir(dir: string): Promise<void> {
  const dh = await fs.open(dir, fsc.O_RDONLY);
  try {
    await dh.sync();
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    await dh.close();
  }
}
