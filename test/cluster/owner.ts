// The tests' Olares owner on the real control plane: as soon as the account chart has created their
// User (iam.kubesphere.io), they finish the wizard (bytetrade.io/wizard-status=completed), which is what
// ends AwaitingActivation — as test/e2e/observe.ts does on the simulator. A merge patch as admin, polled.
import { ANNOTATION_WIZARD_STATUS } from "../../operator/src/render/releases/activation.js";
import type { ControlPlane } from "../support/controlplane.js";

const USERS = "/apis/iam.kubesphere.io/v1alpha2/users";

export interface Owner {
  /** Users whose wizard this owner completed. */
  readonly activated: string[];
  stop(): Promise<void>;
}

export function ownerCompletesWizard(cp: ControlPlane, pollMs = 250): Owner {
  const activated: string[] = [];
  const activate = async () => {
    const list = await cp.api("GET", USERS);
    if (list.status !== 200) return; // the account chart has not brought the User CRD yet
    for (const u of list.json.items as { metadata: { name: string; annotations?: Record<string, string> } }[]) {
      if (u.metadata.annotations?.[ANNOTATION_WIZARD_STATUS] === "completed") continue;
      const r = await cp.api("PATCH", `${USERS}/${u.metadata.name}`, { metadata: { annotations: { [ANNOTATION_WIZARD_STATUS]: "completed" } } }, "application/merge-patch+json");
      if (r.status === 200) activated.push(u.metadata.name);
    }
  };
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(activate).catch(() => undefined);
  }, pollMs);
  return {
    activated,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
