// system-env.yaml and user-env.yaml entries as the real release has them (build/system-env.yaml@c7ee112d,
// build/user-env.yaml@6bebfa85); the timezone options are shortened.
import type { EnvVarSpec } from "../../operator/src/contract/release/system-env.js";

export const SYSTEM_ENVS: EnvVarSpec[] = [
  { envName: "OLARES_SYSTEM_REMOTE_SERVICE", default: "https://api.olares.com", type: "url", editable: true, required: true, title: "Olares remote service" },
  { envName: "OLARES_SYSTEM_CDN_SERVICE", default: "https://cdn.olares.com", type: "url", editable: true, required: true, title: "Olares CDN service" },
  { envName: "OLARES_SYSTEM_DOCKERHUB_SERVICE", default: "", type: "url", editable: true, required: false, title: "Docker Hub mirror" },
  { envName: "OLARES_SYSTEM_ROOT_PATH", default: "/olares", type: "string", editable: false, required: true, title: "Olares root path" },
  { envName: "OLARES_SYSTEM_ROOTFS_TYPE", default: "fs", type: "string", editable: false, required: true, title: "Olares rootfs type" },
  { envName: "OLARES_SYSTEM_CUDA_VERSION", type: "string", editable: false, required: false, title: "CUDA version" },
  { envName: "OLARES_SYSTEM_HUGGINGFACE_SERVICE", default: "https://huggingface.co/", type: "url", editable: true, required: false, title: "Hugging Face endpoint" },
  { envName: "OLARES_SYSTEM_HUGGINGFACE_TOKEN", type: "password", editable: true, required: false, title: "Hugging Face token" },
];

export const USER_ENVS: EnvVarSpec[] = [
  { envName: "OLARES_USER_EMAIL", type: "string", editable: true, required: false, title: "E-mail" },
  { envName: "OLARES_USER_USERNAME", type: "string", editable: true, required: false, title: "User name" },
  { envName: "OLARES_USER_PASSWORD", type: "password", editable: true, required: false, title: "Password" },
  { envName: "OLARES_USER_LANGUAGE", type: "string", editable: false, default: "en-US", options: [{ title: "English", value: "en-US" }, { title: "简体中文", value: "zh-CN" }], title: "Language" },
  { envName: "OLARES_USER_THEME", type: "string", editable: false, default: "light", options: [{ title: "Light", value: "light" }, { title: "Dark", value: "dark" }], title: "Theme" },
  { envName: "OLARES_USER_TIMEZONE", type: "string", editable: false, default: "UTC", options: [{ title: "UTC", value: "UTC" }, { title: "Asia/Shanghai", value: "Asia/Shanghai" }, { title: "Europe/Berlin", value: "Europe/Berlin" }, { title: "America/New_York", value: "America/New_York" }], title: "Time zone" },
];
