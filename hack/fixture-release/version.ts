// The release the fixture imitates: the project's default Olares version (docs/release.md says why).
export const DEFAULT_FIXTURE_VERSION = "1.12.1";
