// The drift gauges and alert counter, registered on the server's registry.
// The `signal` label is bounded by the monitor's signal cap.
import { Counter, Gauge, type Registry } from "prom-client";

export class DriftMetrics {
  readonly psi: Gauge<"signal">;
  readonly ks: Gauge<"signal">;
  readonly ksPValue: Gauge<"signal">;
  readonly alerts: Counter<"signal">;

  constructor(registry: Registry) {
    this.psi = new Gauge({ name: "stratum_drift_psi", help: "PSI of the current window against the reference, per signal", labelNames: ["signal"], registers: [registry] });
    this.ks = new Gauge({ name: "stratum_drift_ks", help: "Two-sample KS statistic D of the current window against the reference, per numeric signal", labelNames: ["signal"], registers: [registry] });
    this.ksPValue = new Gauge({ name: "stratum_drift_ks_p_value", help: "Asymptotic p-value of the KS test, per numeric signal", labelNames: ["signal"], registers: [registry] });
    this.alerts = new Counter({ name: "stratum_drift_alerts_total", help: "Drift alerts fired (on the transition into drift; re-armed when the signal returns within thresholds)", labelNames: ["signal"], registers: [registry] });
  }
}
