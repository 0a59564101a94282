// A Prometheus counter for the request path. prom-client's Counter.inc builds
// a label string, hashes it and validates the labels on every call (~3k
// instructions, several per request); here an increment adds to a plain cell
// found by its label values (nested Maps, no string built), and the sums are
// handed to the prom-client Counter when it is collected (a scrape, or any
// read through the registry), so what Prometheus sees is the same.
import { Counter, type Registry } from "prom-client";

interface Cell {
  labels: Record<string, string>;
  pending: number;
}

type Values<Names extends readonly string[]> = { readonly [K in keyof Names]: string };

export class BatchedCounter<const Names extends readonly string[]> {
  /** The prom-client counter (registered; collecting it takes in the pending sums). */
  private readonly counter: Counter<Names[number]>;
  private readonly name: string;
  private readonly names: Names;
  private readonly root = new Map<string, unknown>();
  private readonly cells: Cell[] = [];

  constructor(cfg: { name: string; help: string; labelNames: Names; registers: Registry[] }) {
    if (cfg.labelNames.length === 0) throw new Error(`${cfg.name}: a batched counter needs labels (use prom-client's Counter)`);
    this.name = cfg.name;
    this.names = cfg.labelNames;
    const flush = () => this.flush();
    this.counter = new Counter<Names[number]>({ name: cfg.name, help: cfg.help, labelNames: cfg.labelNames, registers: cfg.registers, collect: flush });
  }

  /** Add `n` (default 1) to the series with these label values, in `labelNames` order. */
  inc(values: Values<Names>, n = 1): void {
    if (!(n >= 0) || n === Infinity) throw new TypeError(`${this.name}: a counter only goes up by a finite amount (got ${n})`);
    let level = this.root;
    const last = this.names.length - 1;
    for (let i = 0; i < last; i++) {
      const v = values[i]!;
      let next = level.get(v) as Map<string, unknown> | undefined;
      if (!next) level.set(v, (next = new Map()));
      level = next;
    }
    let cell = level.get(values[last]!) as Cell | undefined;
    if (!cell) {
      const labels: Record<string, string> = {};
      this.names.forEach((name, i) => (labels[name] = values[i]!));
      cell = { labels, pending: 0 };
      level.set(values[last]!, cell);
      this.cells.push(cell);
    }
    cell.pending += n;
  }

  private flush(): void {
    for (const cell of this.cells) {
      if (cell.pending === 0) continue;
      this.counter.inc(cell.labels as never, cell.pending);
      cell.pending = 0;
    }
  }
}
