// Stage hooks render declares (as data; the controller runs them): Secrets to generate, Secrets the
// stage reads, node configs to roll out.
import { stageSecretReferences } from "../api/index.js";
import {
  LABEL_INSTALLATION,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_PART_OF,
  MANAGED_BY,
  OWNER_PASSWORD_SECRET,
  SYSTEM_NAMESPACE,
  type GeneratedSecret,
  type NodeConfig,
  type StageHook,
  type StageName,
} from "../contract/index.js";
import { ownerReference, type RenderContext } from "./context.js";

/** The stage is not ready until the Secrets it reads exist with their keys (no hook when it reads none). */
export function secretReferencesHook(ctx: RenderContext, stage: StageName): StageHook[] {
  const references = stageSecretReferences(ctx.spec, stage);
  return references.length > 0 ? [{ kind: "SecretReferences", references }] : [];
}

function generated(ctx: RenderContext, namespace: string, name: string, component: string, keys: readonly string[]): GeneratedSecret {
  return {
    namespace,
    name,
    component,
    keys,
    labels: {
      [LABEL_MANAGED_BY]: MANAGED_BY,
      [LABEL_PART_OF]: "olares",
      [LABEL_NAME]: component,
      [LABEL_INSTALLATION]: ctx.installationName,
      "olares.com/generated": "true",
    },
  };
}

/**
 * Secrets the operator generates once: the owner's initial password (when spec.owner.passwordSecretRef
 * is absent). The release's own randoms are kept in Secret olares-release-randoms (controller/release.ts).
 */
export function generatedSecretsHook(ctx: RenderContext): StageHook[] {
  const secrets: GeneratedSecret[] = [];
  if (!ctx.spec.owner?.passwordSecretRef) secrets.push(generated(ctx, SYSTEM_NAMESPACE, OWNER_PASSWORD_SECRET, "owner", ["password"]));
  return secrets.length > 0 ? [{ kind: "GeneratedSecrets", secrets, ownerReferences: [ownerReference(ctx)] }] : [];
}

export function nodeRolloutHook(configs: NodeConfig[]): StageHook[] {
  return [{ kind: "NodeRollout", configs }];
}
