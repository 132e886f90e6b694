import { ErrorBody } from "../flamenco/common.js";
import type { Operation, OperationParam, OperationResponse } from "../flamenco/operations.js";
import { ClientDetail, ClientList, FarmSummary, FrameStates } from "./dashboard.js";

const error = (description: string): OperationResponse => ({ description, schema: ErrorBody });
const jobId: OperationParam = {
  name: "job_id",
  in: "path",
  required: true,
  description: "UUID of the job",
  format: "uuid",
};
const sessionId: OperationParam = {
  name: "session_id",
  in: "path",
  required: true,
  description: "Id of the client (Flamenco worker UUID or SheepIt session id)",
};

/** The dashboard's operations (farm control: a control network or a control token). */
export const dashboardOperations: Operation[] = [
  {
    method: "get",
    path: "/api/dashboard/events",
    operationId: "dashboardEvents",
    summary:
      "Server-sent events of farm changes (`job`, `job-deleted`, `client`; `hello` first, `ping` every 15 s); data is JSON naming what changed (a `job` event of a claim, completion or failure also lists the frame indices that changed state, `frames: [{state, indices}]`)",
    tag: "dashboard",
    responses: { "200": { description: "An endless event stream", contentType: "text/event-stream" } },
    inSpec: false,
  },
  {
    method: "get",
    path: "/api/dashboard/summary",
    operationId: "dashboardSummary",
    summary: "Jobs newest first with frame counts and ETA, and the farm's throughput over the last hour",
    tag: "dashboard",
    responses: { "200": { description: "The farm", schema: FarmSummary } },
    inSpec: false,
  },
  {
    method: "get",
    path: "/api/dashboard/clients",
    operationId: "dashboardClients",
    summary: "Clients of both protocols (SheepIt sessions and Flamenco workers) in one list",
    tag: "dashboard",
    responses: { "200": { description: "The clients", schema: ClientList } },
    inSpec: false,
  },
  {
    method: "get",
    path: "/api/dashboard/clients/{session_id}",
    operationId: "dashboardClient",
    summary: "One client with its failures per job and the jobs it is blocklisted from",
    tag: "dashboard",
    params: [sessionId],
    responses: { "200": { description: "The client", schema: ClientDetail }, "404": error("No such client") },
    inSpec: false,
  },
  {
    method: "post",
    path: "/api/dashboard/clients/{session_id}/end",
    operationId: "dashboardEndSession",
    summary: "Ends a SheepIt session: its frames go back in line at once",
    tag: "dashboard",
    params: [sessionId],
    responses: {
      "204": { description: "Ended" },
      "404": error("No such client"),
      "422": error("Not a SheepIt session (ask a Flamenco worker to sleep instead)"),
    },
    inSpec: false,
  },
  {
    method: "get",
    path: "/api/dashboard/jobs/{job_id}/frames",
    operationId: "dashboardFrameStates",
    summary: "The state of every frame of the job, one letter per frame",
    tag: "dashboard",
    params: [jobId],
    responses: { "200": { description: "Frame states", schema: FrameStates }, "404": error("No such job") },
    inSpec: false,
  },
  {
    method: "get",
    path: "/api/dashboard/jobs/{job_id}/frames/{index}/thumbnail",
    operationId: "dashboardThumbnail",
    summary: "A JPEG preview of a rendered frame (`?size=large` for the large one); 404 when none can be made",
    tag: "dashboard",
    params: [
      jobId,
      { name: "index", in: "path", required: true, description: "Index of the frame in the job", type: "integer" },
      { name: "size", in: "query", required: false, description: "`small` (160 px, default) or `large` (960 px)" },
    ],
    responses: { "200": { description: "The preview", contentType: "image/jpeg" }, "404": error("No preview") },
    inSpec: false,
  },
];
