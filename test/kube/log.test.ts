import { expect } from "chai";
import { Writable } from "node:stream";
import { createLogger, redact, REDACTED } from "../../operator/src/kube/log.js";

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines: () => chunks.join("").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("logger", () => {
  it("writes JSON lines with level, message, timestamp and logger name", () => {
    const out = capture();
    const log = createLogger({ name: "controller", stream: out.stream });
    log.info("reconciled", { stage: "Storage", durationMs: 12 });
    const [line] = out.lines();
    expect(line).to.include({ level: "info", message: "reconciled", stage: "Storage", durationMs: 12, logger: "controller" });
    expect(line!["timestamp"]).to.be.a("string");
  });

  it("masks secret-looking keys anywhere in the metadata, including nested objects, arrays and Secrets", () => {
    const out = capture();
    const log = createLogger({ stream: out.stream });
    log.info("owner set up", {
      password: "hunter2",
      owner: { username: "alice", passwordSecretRef: { name: "pw" } },
      storage: { s3: { accessKey: "AKIA123", secretKey: "s3cr3t", sessionToken: "tok" } },
      env: [{ name: "AWS_SECRET_ACCESS_KEY", value: "plain" }, { apiKey: "k" }],
      object: { kind: "Secret", metadata: { name: "x" }, data: { password: "aHVudGVyMg==" }, stringData: { token: "abc" } },
    });
    const line = out.lines()[0]!;
    const text = JSON.stringify(line);
    for (const secret of ["plain", "hunter2", "AKIA123", "s3cr3t", "\"tok\"", "aHVudGVyMg==", "\"abc\"", "\"k\""]) expect(text).to.not.include(secret);
    expect(line["password"]).to.equal(REDACTED);
    expect((line["owner"] as { username: string }).username).to.equal("alice");
    expect((line["object"] as { metadata: { name: string } }).metadata.name).to.equal("x");
  });

  it("scrubs key=value secrets from messages and errors, and survives cycles", () => {
    const out = capture();
    const log = createLogger({ stream: out.stream });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic["self"] = cyclic;
    log.error("juicefs format failed: secret-key=abcd1234 bucket=b --access-key AKIA9 --secret-key=qq",  { err: new Error("auth failed token=xyz789"), cyclic });
    const text = JSON.stringify(out.lines()[0]);
    expect(text).to.not.include("abcd1234");
    expect(text).to.not.include("xyz789");
    expect(text).to.not.include("AKIA9");
    expect(text).to.not.include("=qq");
    expect(text).to.include("bucket=b");
    expect(redact(cyclic)).to.deep.equal({ a: 1, self: "[Circular]" });
  });
});
