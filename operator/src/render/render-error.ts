// Bad input found while rendering: names the spec field and the rule it breaks.
export class RenderError extends Error {
  override readonly name = "RenderError";
  constructor(readonly field: string, readonly rule: string) {
    super(`${field}: ${rule}`);
  }
}
