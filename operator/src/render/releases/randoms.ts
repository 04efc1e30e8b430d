// The random values the charts need, generated once and kept in a Secret the operator owns, so every
// later render (and every upgrade) feeds the same ones: the installer's bfl/app keys (launcher.go@df5b0859,
// apps.go@b57e85c3 getAppSecrets) and the launcher's *_rand16 (bfl_deploy.yaml@073faf4e generates them
// unless given, so an upgrade must re-feed them).

/** BuiltInApps, apps.go@b57e85c3: each gets os.<app>.{appKey,appSecret}. */
export const BUILT_IN_APPS = ["portfolio", "vault", "desktop", "message", "wise", "search", "appstore", "notification", "dashboard", "settings", "profile", "agent", "files", "studio"] as const;

/** Secret (in the operator's namespace) holding them; keys below. */
export const RELEASE_RANDOMS_SECRET = "olares-release-randoms";

export type RandomFormat = "appKey" | "secret16" | "rand16";

export interface RandomKey {
  key: string;
  format: RandomFormat;
  /** For appKey: bytetrade_<prefix>_<number>. */
  prefix?: string;
}

/** Every key for one owner. */
export function releaseRandomKeys(): RandomKey[] {
  const keys: RandomKey[] = [
    { key: "launcher.bfl.appKey", format: "appKey", prefix: "bfl" },
    { key: "launcher.bfl.appSecret", format: "secret16" },
    { key: "launcher.bfl.userspace_rand16", format: "rand16" },
    { key: "launcher.bfl.appcache_rand16", format: "rand16" },
    { key: "launcher.bfl.dbdata_rand16", format: "rand16" },
  ];
  for (const app of BUILT_IN_APPS) {
    keys.push({ key: `apps.os.${app}.appKey`, format: "appKey", prefix: app });
    keys.push({ key: `apps.os.${app}.appSecret`, format: "secret16" });
  }
  return keys;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Draws from `alphabet` with the given byte source (rejection sampling: no modulo bias). */
function draw(alphabet: string, length: number, bytes: (n: number) => Uint8Array): string {
  let out = "";
  const limit = 256 - (256 % alphabet.length);
  while (out.length < length) {
    for (const b of bytes(length * 2)) if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
  }
  return out;
}

/** One value of the format; `bytes` is the entropy source (crypto.randomBytes in the controller). */
export function generateRandom(k: RandomKey, bytes: (n: number) => Uint8Array): string {
  switch (k.format) {
    case "appKey": {
      const digits = draw("0123456789", 9, bytes).replace(/^0/, "1");
      return `bytetrade_${k.prefix}_${digits}`;
    }
    case "secret16":
      return draw(ALNUM, 16, bytes);
    case "rand16":
      return draw(LOWER_ALNUM, 16, bytes);
  }
}

/** Values for every key missing from `existing` (existing ones are never replaced). */
export function missingRandoms(existing: Readonly<Record<string, string>>, bytes: (n: number) => Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of releaseRandomKeys()) if (!existing[k.key]) out[k.key] = generateRandom(k, bytes);
  return out;
}
