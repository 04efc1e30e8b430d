// mocha's configuration. `npm test` (no files given) runs every test file, in the order of
// hack/test-order.cjs (tool-free tiers first while setup builds the Go tools in the background);
// `mocha <files|globs>` runs just what it is given (mocha would otherwise add our list to them).
const { orderedSpec, namesFiles } = require("./hack/test-order.cjs");

// As in the image (Dockerfile): the storage engine runs in the test process, and with libuv's default 4
// threads a FUSE write blocked on a stopped object store stalls every fs call (the fault test's own MinIO
// restart included) until JuiceFS gives up, minutes later. mocha's node-option child inherits this.
process.env.UV_THREADPOOL_SIZE ??= "64";

module.exports = {
  "node-option": ["import=tsx"],
  timeout: 20000,
  recursive: true,
  reporter: "./test/support/file-times-reporter.cjs",
  ...(namesFiles(process.argv.slice(2)) ? {} : { spec: orderedSpec() }),
};
