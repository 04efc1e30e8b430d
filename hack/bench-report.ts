// The shape of benchmark figures and how they are printed; shared by every hack/bench-*.ts.
export interface Figure {
  name: string;
  value: number | string;
  unit?: string;
  /** e.g. "≤ 1 s" */
  target?: string;
  /** Whether the target is met (undefined when there is no target). */
  ok?: boolean;
}

export interface BenchSection {
  title: string;
  run(): Promise<Figure[]>;
}

export function formatFigure(f: Figure): string {
  const verdict = f.ok === undefined ? "" : f.ok ? "  ✓" : "  ✗ (target missed)";
  const target = f.target ? `  [target ${f.target}]` : "";
  return `  ${f.name.padEnd(48)} ${String(f.value).padStart(8)} ${f.unit ?? ""}${target}${verdict}`;
}

/** Runs the sections in order, printing each figure; returns how many targets were missed. */
export async function runSections(sections: BenchSection[]): Promise<number> {
  let missed = 0;
  for (const section of sections) {
    console.log(section.title);
    for (const f of await section.run()) {
      console.log(formatFigure(f));
      if (f.ok === false) missed++;
    }
    console.log("");
  }
  return missed;
}

/** True when this module is the script node was started with (tsx or node). */
export function invokedDirectly(moduleUrl: string): boolean {
  return !!process.argv[1] && moduleUrl.endsWith(process.argv[1].replace(/^.*\/hack\//, "/hack/"));
}
