import type { ChunkRef } from "./sheepit-chunks.js";
import type { SheepItDialect } from "./sheepit-client-options.js";
import { BadServerResponse, javaInt, required } from "./sheepit-xml.js";

export interface JobOffer {
  id: string;
  useGpu: number;
  /** `archive_md5` ("" when absent: 2024 clients do not need it). */
  archiveMd5: string;
  /** `<chunks>` (empty when absent: older clients do not read it). */
  chunks: ChunkRef[];
  path: string;
  frame: string;
  synchronousUpload: string;
  validationUrl: string;
  name: string;
  password: string;
  renderer: { md5: string; commandline: string; updateMethod: string };
  script: string;
}

export interface JobRequestResult {
  status: number;
  stats?: Record<string, number>;
  job?: JobOffer;
  deleted: string[];
}

/** The `<job>` of a request-job answer, with every attribute the Java client requires for its dialect. */
export function parseJob(j: Record<string, unknown>, dialect: SheepItDialect): JobOffer {
  const id = required(j, "id", "job");
  javaInt(id, "job id");
  const r = j.renderer as Record<string, unknown> | undefined;
  if (!r) throw new BadServerResponse("<job> lacks <renderer>");
  const script = j.script;
  const scriptText =
    typeof script === "string" ? script : ((script as Record<string, unknown> | undefined)?.["#text"] as string);
  if (typeof scriptText !== "string" || scriptText.trim() === "")
    throw new BadServerResponse("<job> lacks a non-empty <script>");
  if (dialect !== "2024") required(j, "extras", "job");
  const chunkList = (j.chunks as Record<string, unknown> | undefined)?.chunk as
    | Array<Record<string, unknown>>
    | undefined;
  const chunks = (chunkList ?? []).map((c) => ({ id: required(c, "id", "chunk"), md5: required(c, "md5", "chunk") }));
  if (dialect === "2024" && chunks.length === 0) throw new BadServerResponse("<job> lacks <chunks>");
  return {
    id,
    useGpu: javaInt(required(j, "use_gpu", "job"), "use_gpu"),
    archiveMd5: dialect === "2024" ? String(j.archive_md5 ?? "") : required(j, "archive_md5", "job"),
    chunks,
    path: required(j, "path", "job"),
    frame: required(j, "frame", "job"),
    synchronousUpload: required(j, "synchronous_upload", "job"),
    validationUrl: required(j, "validation_url", "job"),
    name: required(j, "name", "job"),
    password: required(j, "password", "job"),
    renderer: {
      md5: required(r, "md5", "renderer"),
      commandline: required(r, "commandline", "renderer"),
      updateMethod: required(r, "update_method", "renderer"),
    },
    script: scriptText,
  };
}
