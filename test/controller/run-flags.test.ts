import { expect } from "chai";
import { Command } from "commander";
import { parseBurst, parseQps, registerRunCommand } from "../../operator/src/cli/run.js";
import { DEFAULT_BURST, DEFAULT_QPS } from "../../operator/src/kube/transport.js";

describe("olares-operator run: --qps and --burst", () => {
  it("offers both flags, naming the defaults in the help", () => {
    const run = registerRunCommand(new Command());
    const flags = run.options.map((o) => o.long);
    expect(flags).to.include.members(["--qps", "--burst"]);
    expect(run.helpInformation()).to.include(`default ${DEFAULT_QPS}`).and.include(`default ${DEFAULT_BURST}`);
  });

  it("parses numbers and rejects bad ones naming the flag and the rule", () => {
    expect(parseQps("50")).to.equal(50);
    expect(parseQps("0.5")).to.equal(0.5);
    expect(parseQps("0")).to.equal(0);
    expect(parseBurst("100")).to.equal(100);
    expect(() => parseQps("-1")).to.throw(/--qps: "-1" must be a number >= 0/);
    expect(() => parseQps("fast")).to.throw(/--qps/);
    expect(() => parseQps("")).to.throw(/--qps/);
    expect(() => parseBurst("0")).to.throw(/--burst: "0" must be a whole number >= 1/);
    expect(() => parseBurst("2.5")).to.throw(/--burst/);
  });

  it("hands parsed values to the action", async () => {
    const program = new Command().exitOverride();
    const run = registerRunCommand(program);
    let seen: Record<string, unknown> | undefined;
    run.action((opts: Record<string, unknown>) => void (seen = opts));
    await program.parseAsync(["run", "--qps", "75", "--burst", "150"], { from: "user" });
    expect(seen).to.include({ qps: 75, burst: 150 });
  });

  it("keeps client-go-like defaults: 50 requests/s sustained, bursts of 100", () => {
    expect({ DEFAULT_QPS, DEFAULT_BURST }).to.deep.equal({ DEFAULT_QPS: 50, DEFAULT_BURST: 100 });
  });
});
