// Only one OlaresInstallation is honoured: the oldest (creationTimestamp, then name).
import type { KubeObject } from "../contract/index.js";

export function honouredInstallation(installations: KubeObject[]): KubeObject | undefined {
  return [...installations].sort((a, b) => {
    const ta = a.metadata.creationTimestamp ?? "";
    const tb = b.metadata.creationTimestamp ?? "";
    if (ta !== tb) return ta < tb ? -1 : 1;
    return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
  })[0];
}
