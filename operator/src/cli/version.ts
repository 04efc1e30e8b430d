// Kept equal to package.json "version" (test/cli checks it), so the CLI needs no file read to print it.
export const OPERATOR_VERSION = "0.1.0";
