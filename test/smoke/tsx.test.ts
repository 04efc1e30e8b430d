import { expect } from "chai";
describe("toolchain", () => { it("runs TypeScript tests through tsx", () => { expect(1 + 1).to.equal(2); }); });
