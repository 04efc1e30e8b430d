// `olares-operator crd`: prints the CRD exactly as shipped in crds/.
import type { Command } from "commander";
import { readCrdYaml } from "../api/index.js";
import { processIO, type CliIO } from "./io.js";

export function registerCrdCommand(program: Command, io: CliIO = processIO): Command {
  return program
    .command("crd")
    .description("Print the OlaresInstallation CustomResourceDefinition (YAML), e.g. for kubectl apply --server-side -f -")
    .action(() => {
      io.stdout(readCrdYaml());
    });
}
