// The floor: the least a Node gateway has to do. Collect the body, JSON.parse
// and JSON.stringify it, forward it with a keep-alive agent, pipe the
// response back untouched (streams included). No auth, limits, metrics or logs.
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { flag, onStop, ready } from "./common.js";

const upstream = new URL(flag("upstream") ?? "http://127.0.0.1:8790");
const BODY_LIMIT = 4 * 1024 * 1024;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te", "trailer"]);

function passHeaders(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
}

function fail(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { message, type: "proxy_error" } });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (c: Buffer) => {
    size += c.length;
    if (size <= BODY_LIMIT) chunks.push(c);
  });
  req.on("end", () => {
    if (size > BODY_LIMIT) return fail(res, 413, "body too large");
    let body: string;
    try {
      body = JSON.stringify(JSON.parse((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8")));
    } catch {
      return fail(res, 400, "invalid JSON");
    }
    const headers: OutgoingHttpHeaders = { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    const up = http.request(
      { agent, host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, passHeaders(ur.headers));
        ur.pipe(res);
        ur.on("error", () => res.destroy());
      },
    );
    up.on("error", (e) => fail(res, 502, e.message));
    res.on("close", () => {
      if (!res.writableFinished) up.destroy(); // client went away: release the upstream
    });
    up.end(body);
  });
});
server.keepAliveTimeout = 75_000;
server.requestTimeout = 0;

server.listen(0, "127.0.0.1", () => {
  ready(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
onStop(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      agent.destroy();
    }),
);
