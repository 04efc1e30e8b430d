// Runs a Lua health check the way Argo CD does: `obj` is a global holding the resource, the chunk returns
// { status, message }. Lua has no JSON parser, so the object is written as a Lua table literal.
import { execFile } from "node:child_process";

/** A Lua expression for a JSON-like value; null and undefined fields are left out, as in Argo CD. */
export function toLua(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`toLua: ${value} has no Lua literal`);
    return String(value);
  }
  if (typeof value === "string") return luaString(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(", ")}}`;
  if (typeof value === "object") {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `[${luaString(k)}] = ${toLua(v)}`);
    return `{${fields.join(", ")}}`;
  }
  throw new Error(`toLua: unsupported ${typeof value}`);
}

/** A double-quoted Lua string; every non-printable or non-ASCII byte as a decimal escape (valid in 5.1 and 5.4). */
function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, "utf8")) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += "\\\\";
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString().padStart(3, "0")}`;
  }
  return out + '"';
}

export interface HealthStatus {
  status: string;
  message: string;
}

/** Runs `checkPath` with `obj` bound, under the interpreter `lua` (e.g. "lua5.4"). */
export function runHealthCheck(lua: string, checkPath: string, obj: unknown): Promise<HealthStatus> {
  const harness = [
    `obj = ${toLua(obj)}`,
    `local check = assert(loadfile(${luaString(checkPath)}))`,
    `local hs = check()`,
    `assert(type(hs) == "table", "the health check must return a table")`,
    `io.write(tostring(hs.status), "\\n", tostring(hs.message or ""), "\\n")`,
  ].join("\n");
  return new Promise((resolve, reject) => {
    const child = execFile(lua, ["-"], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${lua} failed: ${stderr || err.message}`));
      const [status = "", message = ""] = String(stdout).split("\n");
      resolve({ status, message });
    });
    child.stdin?.end(harness);
  });
}
