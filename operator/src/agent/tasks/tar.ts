// Reads one regular file out of a (gzipped) ustar/GNU tar archive, in memory.
import { gunzipSync } from "node:zlib";

const BLOCK = 512;

function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString("utf8");
}

function octal(header: Buffer, offset: number, length: number): number {
  const text = field(header, offset, length).trim();
  return text === "" ? 0 : parseInt(text, 8);
}

export function isGzip(data: Buffer): boolean {
  return data.length > 2 && data[0] === 0x1f && data[1] === 0x8b;
}

/** The content of the first regular file whose base name is `baseName`; undefined when absent. */
export function extractFromTar(archive: Buffer, baseName: string): Buffer | undefined {
  const tar = isGzip(archive) ? gunzipSync(archive) : archive;
  let pos = 0;
  let longName: string | undefined;
  while (pos + BLOCK <= tar.length) {
    const header = tar.subarray(pos, pos + BLOCK);
    if (header.every((b) => b === 0)) return undefined;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 0);
    const prefix = field(header, 345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    const dataStart = pos + BLOCK;
    const data = tar.subarray(dataStart, dataStart + size);
    pos = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "L") {
      longName = data.toString("utf8").replace(/\0+$/, "");
      continue;
    }
    if (type !== "0" && type !== "\0") continue;
    name = name.replace(/\/+$/, "");
    if (name.split("/").pop() === baseName) return Buffer.from(data);
  }
  return undefined;
}
