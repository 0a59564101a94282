// The resource every span reports (`service.name` = stratum). Only span
// exporters read it (OTLP), so it is built on first read:
// @opentelemetry/resources, with the semantic conventions it loads, is ~1 MiB
// of heap that a process tracing only into its own store never needs.
import type { Resource } from "@opentelemetry/resources";
import { lazyModule } from "../core/lazy-module.js";

const resources = lazyModule<typeof import("@opentelemetry/resources")>("@opentelemetry/resources");
let resource: Resource | undefined;

export function serviceResource(): Resource {
  return (resource ??= resources().resourceFromAttributes({ "service.name": "stratum" }));
}
