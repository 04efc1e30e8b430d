// mocha's configuration. `npm test` (no files given) runs every test file, in the order of
// hack/test-order.cjs (tool-free tiers first while setup builds the Go tools in the background);
// `mocha <files|globs>` runs just what it is given (mocha would otherwise add our list to them).
const { orderedSpec, namesFiles } = require("./hack/test-order.cjs");

module.exports = {
  "node-option": ["import=tsx"],
  timeout: 20000,
  recursive: true,
  reporter: "./test/support/file-times-reporter.cjs",
  ...(namesFiles(process.argv.slice(2)) ? {} : { spec: orderedSpec() }),
};
