// mocha's spec reporter, plus the wall time of each test file and of each tier (hack/test-order.cjs),
// printed just before mocha's own summary so that summary stays the closing line CI reads.
const Mocha = require("mocha");
const path = require("node:path");
const { tierOfFile } = require("../../hack/test-order.cjs");

const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_RUN_END } = Mocha.Runner.constants;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

class FileTimesReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const started = new Map();
    const took = new Map();
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (suite.file && !started.has(suite.file)) started.set(suite.file, Date.now());
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      if (suite.file && suite.parent?.root) took.set(suite.file, Date.now() - started.get(suite.file));
    });
    // prepended, so it prints before the spec reporter's epilogue (the "N passing" summary)
    runner.prependOnceListener(EVENT_RUN_END, () => {
      if (took.size < 2) return;
      const files = [...took].map(([file, ms]) => ({ file: path.relative(process.cwd(), file), ms }));
      const tiers = new Map();
      for (const f of files) {
        const tier = tierOfFile(f.file);
        tiers.set(tier, (tiers.get(tier) ?? 0) + f.ms);
      }
      const lines = ["", "  time per tier: " + [...tiers].map(([t, ms]) => `${t} ${seconds(ms)}`).join(", "), "  slowest files:"];
      for (const f of files.sort((a, b) => b.ms - a.ms).slice(0, 12)) lines.push(`    ${seconds(f.ms).padStart(8)}  ${f.file}`);
      process.stdout.write(lines.join("\n") + "\n");
    });
  }
}

module.exports = FileTimesReporter;
