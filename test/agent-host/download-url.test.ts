// Download URLs reach plan output, a ConfigMap and agent logs: no credentials, query or fragment.
import { expect } from "chai";
import { isDownloadUrl } from "../../operator/src/contract/index.js";

describe("isDownloadUrl", () => {
  it("accepts plain https URLs", () => {
    expect(isDownloadUrl("https://dl.example.com/olaresd-v1.12.1-linux-amd64.tar.gz")).to.equal(true);
  });
  it("rejects credentials, presigned queries and fragments", () => {
    expect(isDownloadUrl("https://user:pw@dl.example.com/o.tgz")).to.equal(false);
    expect(isDownloadUrl("https://dl.example.com/o.tgz?X-Amz-Signature=abc")).to.equal(false);
    expect(isDownloadUrl("https://dl.example.com/o.tgz#frag")).to.equal(false);
  });
});
