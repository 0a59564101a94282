// Test support: a scripted upstream on node:http that records every request
// and answers with whatever the test's handler writes. Closed by closeAll().
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
export type Handler = (req: Seen, res: http.ServerResponse) => void | Promise<void>;

export class ScriptedUpstreams {
  private readonly servers: http.Server[] = [];

  /** Start one; `origin` is http://127.0.0.1:PORT, `connections` counts TCP connections accepted. */
  async serve(handler: Handler): Promise<{ origin: string; port: number; seen: Seen[]; state: { connections: number } }> {
    const seen: Seen[] = [];
    const state = { connections: 0 };
    const server = http.createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        const s = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
        seen.push(s);
        void handler(s, res);
      });
    });
    server.on("connection", () => state.connections++);
    this.servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    return { origin: `http://127.0.0.1:${port}`, port, seen, state };
  }

  closeAll(): void {
    for (const s of this.servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  }
}
