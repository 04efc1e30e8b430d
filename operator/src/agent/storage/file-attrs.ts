// What Node cannot do to a file, done exactly: times to the nanosecond (libuv rounds utimes to the
// microsecond), extended attributes (Node has no xattr API) and special files (no mknod). A few
// long-lived perl processes (perl-base is Essential on Debian: in the agent image and on every
// Debian/Ubuntu host) make the raw system calls, pipelined, one request per line.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

/** Syscall numbers (x86_64 from arch/x86/entry/syscalls, arm64 from the asm-generic table). */
const SYSCALLS: Partial<Record<NodeJS.Architecture, { utimensat: number; lsetxattr: number; lremovexattr: number; mknodat: number; llistxattr: number; lgetxattr: number }>> = {
  x64: { utimensat: 280, lsetxattr: 189, lremovexattr: 198, mknodat: 259, llistxattr: 195, lgetxattr: 192 },
  arm64: { utimensat: 88, lsetxattr: 6, lremovexattr: 15, mknodat: 33, llistxattr: 12, lgetxattr: 9 },
};

// Requests: "<op> <hex field>…\n"; replies: "0\n" or "<errno>\n", in order.
// T path atime_s atime_ns mtime_s mtime_ns | X path name value | R path name | N path mode rdev
// L path → "0 name=value,name=value" (hex), every xattr of the entry itself (not a symlink's target)
const SCRIPT = `
use strict; use warnings;
my ($UT, $SX, $RX, $MK, $LX, $GX) = @ARGV;
sub sized { my ($nr, @a) = @_; my $size = 65536;
  for (;;) { my $buf = "\\0" x $size; my $n = syscall($nr, @a, $buf, $size); return substr($buf, 0, $n) if $n >= 0;
    return undef unless $! == 34; $n = syscall($nr, @a, 0, 0); return undef if $n < 0; $size = $n + 1024; } }
$| = 1;
sub h { my $s = pack("H*", $_[0]); return $s; }
while (my $line = <STDIN>) {
  chomp $line;
  my ($op, @f) = split / /, $line, -1;
  my $r;
  if ($op eq "T") {
    my $ts = pack("q4", $f[1], $f[2], $f[3], $f[4]);
    $r = syscall($UT, -100, h($f[0]) . "\\0", $ts, 0x100);
  } elsif ($op eq "X") {
    my $v = h($f[2]);
    $r = syscall($SX, h($f[0]) . "\\0", h($f[1]) . "\\0", $v, length($v), 0);
  } elsif ($op eq "R") {
    $r = syscall($RX, h($f[0]) . "\\0", h($f[1]) . "\\0");
  } elsif ($op eq "N") {
    $r = syscall($MK, -100, h($f[0]) . "\\0", $f[1] + 0, $f[2] + 0);
  } elsif ($op eq "L") {
    my $p = h($f[0]) . "\\0";
    my $names = sized($LX, $p);
    if (!defined $names) { print(($! + 0), "\\n"); next; }
    my @out;
    for my $name (grep { length } split /\\0/, $names) {
      my $v = sized($GX, $p, $name . "\\0");
      if (!defined $v) { next if $! == 61; print(($! + 0), "\\n"); @out = (); $r = -2; last; }
      push @out, unpack("H*", $name) . "=" . unpack("H*", $v);
    }
    print("0 ", join(",", @out), "\\n") unless defined $r && $r == -2;
    next;
  } else { $! = 22; $r = -1; }
  print(($r == -1 ? ($! + 0) : 0), "\\n");
}
`;

const UTIME_OMIT = (1 << 30) - 2;
const hex = (s: string | Buffer) => (typeof s === "string" ? Buffer.from(s, "utf8") : s).toString("hex");

const ERRNO: Record<number, string> = { 1: "EPERM", 2: "ENOENT", 13: "EACCES", 17: "EEXIST", 22: "EINVAL", 28: "ENOSPC", 61: "ENODATA", 95: "EOPNOTSUPP", 122: "EDQUOT" };

export class FileAttrError extends Error {
  constructor(
    readonly op: string,
    readonly file: string,
    readonly errno: number,
  ) {
    super(`${op} ${JSON.stringify(file)}: ${ERRNO[errno] ?? `errno ${errno}`}`);
    this.name = "FileAttrError";
    (this as { code?: string }).code = ERRNO[errno];
  }
}

interface Pending {
  op: string;
  file: string;
  resolve: (payload: string) => void;
  reject: (e: Error) => void;
}

class Worker {
  readonly pending: Pending[] = [];
  private buf = "";
  private dead?: Error;
  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf("\n")) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        const sp = line.indexOf(" ");
        const errno = Number(sp < 0 ? line : line.slice(0, sp));
        const p = this.pending.shift();
        if (!p) continue;
        if (errno === 0) p.resolve(sp < 0 ? "" : line.slice(sp + 1));
        else p.reject(new FileAttrError(p.op, p.file, errno));
      }
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (c: string) => (stderr = (stderr + c).slice(-2000)));
    child.on("error", (e) => this.fail(e));
    child.on("exit", (code, signal) => this.fail(new Error(`file-attrs helper (perl) exited ${signal ?? code}${stderr ? `: ${stderr.trim()}` : ""}`)));
  }
  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.splice(0)) p.reject(e);
  }
  send(line: string, op: string, file: string): Promise<string> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending.push({ op, file, resolve, reject });
      this.child.stdin.write(line + "\n");
    });
  }
}

/** A pool of helpers; requests for one path always go to the same helper, so they apply in order. */
export class FileAttrs {
  private constructor(private readonly workers: Worker[]) {}

  /** Whether this machine can run the helper (a known architecture and a perl). */
  static supported(): boolean {
    return SYSCALLS[process.arch] !== undefined;
  }

  static async start(count = 4, perl = "perl"): Promise<FileAttrs> {
    const nr = SYSCALLS[process.arch];
    if (!nr) throw new Error(`file-attrs helper: no syscall table for ${process.arch}`);
    const args = [nr.utimensat, nr.lsetxattr, nr.lremovexattr, nr.mknodat, nr.llistxattr, nr.lgetxattr].map(String);
    const workers = Array.from({ length: count }, () => new Worker(spawn(perl, ["-e", SCRIPT, ...args], { stdio: "pipe" })));
    const fa = new FileAttrs(workers);
    // One real call each: a missing perl or a broken syscall table fails here, not mid-copy.
    await Promise.all(workers.map((w) => w.send(`T ${hex("/")} 0 ${UTIME_OMIT} 0 ${UTIME_OMIT}`, "probe", "/"))); // UTIME_OMIT both: changes nothing
    return fa;
  }

  private pick(file: string): Worker {
    let x = 0;
    for (let i = 0; i < file.length; i++) x = (x * 31 + file.charCodeAt(i)) | 0;
    return this.workers[Math.abs(x) % this.workers.length]!;
  }

  /** utimensat(AT_SYMLINK_NOFOLLOW) to the nanosecond: the link itself for symlinks. */
  async setTimes(file: string, atimeNs: bigint, mtimeNs: bigint): Promise<void> {
    // Floor division: a time before 1970 is a negative second and a positive nanosecond part.
    const s = (ns: bigint) => {
      let sec = ns / 1_000_000_000n;
      let nsec = ns % 1_000_000_000n;
      if (nsec < 0n) (sec -= 1n), (nsec += 1_000_000_000n);
      return `${sec} ${nsec}`;
    };
    await this.pick(file).send(`T ${hex(file)} ${s(atimeNs)} ${s(mtimeNs)}`, "utimensat", file);
  }

  /** lsetxattr with the raw value (ACLs are system.posix_acl_* values like any other). */
  async setXattr(file: string, name: string, value: Buffer): Promise<void> {
    await this.pick(file).send(`X ${hex(file)} ${hex(name)} ${value.toString("hex")}`, `lsetxattr ${name}`, file);
  }

  async removeXattr(file: string, name: string): Promise<void> {
    await this.pick(file).send(`R ${hex(file)} ${hex(name)}`, `lremovexattr ${name}`, file);
  }

  /** mknodat for FIFOs, sockets and device files (mode carries the type bits). */
  async mknod(file: string, mode: bigint, rdev: bigint): Promise<void> {
    await this.pick(file).send(`N ${hex(file)} ${mode} ${rdev}`, "mknod", file);
  }

  /** Every xattr of the entry itself, name → value in getfattr's "0x…" form; undefined when it is gone. */
  async listXattrs(file: string): Promise<Map<string, string> | undefined> {
    let payload: string;
    try {
      payload = await this.pick(file).send(`L ${hex(file)}`, "llistxattr", file);
    } catch (e) {
      if (e instanceof FileAttrError && e.errno === 2) return undefined;
      if (e instanceof FileAttrError && e.errno === 95) return new Map(); // EOPNOTSUPP: the filesystem keeps none
      throw e;
    }
    const out = new Map<string, string>();
    for (const pair of payload ? payload.split(",") : []) {
      const eq = pair.indexOf("=");
      out.set(Buffer.from(pair.slice(0, eq), "hex").toString("utf8"), `0x${pair.slice(eq + 1)}`);
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null || w.child.signalCode !== null) return resolve();
            w.child.once("exit", () => resolve());
            w.child.stdin.end();
          }),
      ),
    );
  }
}
