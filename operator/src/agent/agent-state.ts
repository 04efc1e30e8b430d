// The agent's memory on the host (/var/lib/olares-agent/state.json, written through the Host): the
// config it last applied (drift checks and cleanup use it even after its ConfigMap is pruned) and a
// reboot in flight, so the agent finishes the handshake after the node comes back.
import type { NodeConfig } from "../contract/index.js";
import { AGENT_STATE_DIR, nodeConfigId, validateHostTasks, type HostTask } from "../contract/index.js";
import type { Host } from "./host/types.js";

export const STATE_FILE = `${AGENT_STATE_DIR}/state.json`;
export const BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id";

export interface PendingReboot {
  configId: string;
  /** Boot id when the reboot was requested; a different id means the node has rebooted. */
  bootId?: string;
  requestedAt: string;
}

export interface AgentStateFile {
  version: 1;
  applied?: NodeConfig;
  reboot?: PendingReboot;
}

function isIntactConfig(c: NodeConfig): boolean {
  return Array.isArray(c.tasks) && validateHostTasks(c.tasks as HostTask[]).length === 0 && nodeConfigId(c.tasks) === c.id;
}

export async function loadAgentState(host: Host): Promise<AgentStateFile> {
  const raw = await host.readText(STATE_FILE);
  if (raw === undefined) return { version: 1 };
  try {
    const parsed = JSON.parse(raw) as AgentStateFile;
    if (parsed && parsed.version === 1) {
      // The file is input like any other: an applied config must still pass the task rules and its hash.
      if (parsed.applied && !isIntactConfig(parsed.applied)) delete parsed.applied;
      return parsed;
    }
  } catch {
    // A torn or foreign file: start over; the next apply rewrites it.
  }
  return { version: 1 };
}

export async function saveAgentState(host: Host, state: AgentStateFile): Promise<void> {
  await host.writeFile(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export async function currentBootId(host: Host): Promise<string | undefined> {
  return (await host.readText(BOOT_ID_FILE))?.trim() || undefined;
}
