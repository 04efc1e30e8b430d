// Metadata-engine probe: AUTH + PING + SELECT <db> over RESP, so a wrong password or a dead Redis is
// found before anything changes.
import net from "node:net";
import { ProbeError } from "./s3.js";

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

/** Splits redis://[user[:password]@]host[:port][/db] (rediss:// too). */
export function parseRedisUrl(url: string): RedisTarget & { tls: boolean } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error("metadata URL is not a URL (expected redis://[:password@]host:port/db)");
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new Error(`metadata URL scheme ${u.protocol} is not supported here (redis:// or rediss://)`);
  const db = u.pathname && u.pathname !== "/" ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`metadata URL database ${JSON.stringify(u.pathname.slice(1))} is not a number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port ? Number(u.port) : 6379,
    db,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === "rediss:",
  };
}

/** The URL without its password (for unit files, logs, status): redis://host:port/db. */
export function redactRedisUrl(url: string): string {
  const u = new URL(url);
  u.password = "";
  if (!u.username) u.username = "";
  return u.toString().replace(/\/\/:?@/, "//");
}

function encode(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

/** Sends commands in order and returns each simple reply line; throws ProbeError on an error reply. */
export async function probeRedis(t: RedisTarget, timeoutMs = 5000): Promise<void> {
  const where = `metadata engine redis://${t.host}:${t.port}/${t.db}`;
  const cmds: string[][] = [];
  if (t.password) cmds.push(t.username ? ["AUTH", t.username, t.password] : ["AUTH", t.password]);
  cmds.push(["PING"], ["SELECT", String(t.db)]);
  await new Promise<void>((resolve, reject) => {
    const sock = net.createConnection({ host: t.host, port: t.port });
    let buf = "";
    let answered = 0;
    const fail = (msg: string) => {
      sock.destroy();
      reject(new ProbeError(where, msg));
    };
    sock.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`));
    sock.on("error", (e: NodeJS.ErrnoException) => fail(`${e.code ?? ""} ${e.message}`.trim()));
    sock.on("connect", () => sock.write(cmds.map(encode).join("")));
    sock.on("data", (d) => {
      buf += d.toString("utf8");
      let nl;
      while ((nl = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line.startsWith("-")) return fail(`${cmds[answered]![0]} failed: ${line.slice(1)}`);
        answered++;
        if (answered === cmds.length) {
          sock.end();
          return resolve();
        }
      }
    });
  });
}
