// Runs Portkey's own node entry (@portkey-ai/gateway/build/start-server.js,
// path in PORTKEY_ENTRY) bound to 127.0.0.1 on an ephemeral port, and prints
// the bench ready line once it listens. Portkey itself calls
// serve({ port }) without a host; the patch below only supplies the host.
import net from "node:net";
import { pathToFileURL } from "node:url";
import { ready } from "./common.js";

const entry = process.env.PORTKEY_ENTRY;
if (!entry) throw new Error("PORTKEY_ENTRY is not set");

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  if (typeof args[0] === "number" && (args[1] === undefined || typeof args[1] === "function")) {
    if (args[1] === undefined) args[1] = "127.0.0.1";
    else args.splice(1, 0, "127.0.0.1");
    this.once("listening", () => {
      const a = this.address();
      if (a && typeof a === "object") ready(`http://127.0.0.1:${a.port}`);
    });
  }
  return (listen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof listen;
console.clear = () => {}; // its banner clears the terminal

await import(pathToFileURL(entry).href);
