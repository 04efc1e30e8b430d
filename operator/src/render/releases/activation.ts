// After the charts: the owner activates Olares in the wizard (1.12.x). Status tells the admin where and
// how; AwaitingActivation holds until the owner's User says bytetrade.io/wizard-status=completed
// (cli/cmd/ctl/user/activate.go@84d4cc35, cli/pkg/wizard/wizard.go@0d2393fc, welcome.go).
import type { KubeObject, ObservedState } from "../../contract/index.js";

export const USER_API_VERSION = "iam.kubesphere.io/v1alpha2";
export const ANNOTATION_WIZARD_STATUS = "bytetrade.io/wizard-status";
/** The wizard/desktop node port the installer prints (http://<ip>:30180). */
export const WIZARD_NODE_PORT = 30180;

export type ActivationState = "UserMissing" | "AwaitingActivation" | "Activating" | "ActivationFailed" | "Activated";

export interface Activation {
  state: ActivationState;
  /** The raw wizard status (wait_activate_system, *_activating, *_failed, completed, …). */
  wizardStatus?: string;
  wizardUrl: string;
  message: string;
}

export interface ActivationInput {
  username: string;
  domain: string;
  /** An address of a node the wizard is reachable on (its NodePort). */
  nodeAddress: string;
  /** Where the initial password is, e.g. "Secret olares-system/olares-owner-password, key password". */
  passwordLocation: string;
}

export function ownerUser(observed: ObservedState, username: string): KubeObject | undefined {
  return observed.get({ apiVersion: USER_API_VERSION, kind: "User", name: username });
}

export function activation(user: KubeObject | undefined, input: ActivationInput): Activation {
  const wizardUrl = `http://${input.nodeAddress}:${WIZARD_NODE_PORT}`;
  const olaresId = `${input.username}@${input.domain}`;
  if (!user) return { state: "UserMissing", wizardUrl, message: `waiting for User ${input.username} (the account chart creates it)` };
  const wizardStatus = user.metadata.annotations?.[ANNOTATION_WIZARD_STATUS];
  if (wizardStatus === "completed") return { state: "Activated", wizardStatus, wizardUrl, message: `Olares ${olaresId} is activated` };
  if (wizardStatus?.endsWith("_failed")) {
    return { state: "ActivationFailed", wizardStatus, wizardUrl, message: `activation of ${olaresId} failed (${wizardStatus}); retry from the wizard at ${wizardUrl}` };
  }
  const how = `open ${wizardUrl} and activate ${olaresId} with LarePass (or run \`olares-cli user activate ${olaresId}\`); the initial password is in ${input.passwordLocation}`;
  if (wizardStatus?.endsWith("_activating") || wizardStatus === "wait_activate_network") {
    return { state: "Activating", wizardStatus, wizardUrl, message: `activation of ${olaresId} in progress (${wizardStatus})` };
  }
  return { state: "AwaitingActivation", ...(wizardStatus ? { wizardStatus } : {}), wizardUrl, message: `awaiting activation: ${how}` };
}
