// Alerts POSTed as JSON to a configured URL, with a timeout. A failure is
// logged and swallowed: an unreachable webhook must never break the check.
import type { Logger } from "../ops/logger.js";
import type { AlertSink, DriftAlert } from "./types.js";

export class WebhookAlertSink implements AlertSink {
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {}

  async send(alert: DriftAlert): Promise<void> {
    try {
      const res = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "stratum-drift" },
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body?.cancel();
      if (!res.ok) this.log.warn({ signal: alert.signal, status: res.status, url: this.url }, "drift webhook answered with an error status");
    } catch (err) {
      this.log.warn({ signal: alert.signal, url: this.url, err: (err as Error).message }, "drift webhook failed");
    }
  }
}
