// How a stored window's samples and flags are kept as one JSON document
// (shared by the SQLite and PostgreSQL stores).
import type { StoredWindow } from "./types.js";

/** The parts of a window kept as one JSON document. */
export interface WindowData {
  values: number[];
  categories?: string[];
  origin?: StoredWindow["origin"];
  alerting?: boolean;
}

export function encodeWindowData(w: StoredWindow): WindowData {
  return { values: w.values, ...(w.categories ? { categories: w.categories } : {}), ...(w.origin ? { origin: w.origin } : {}), ...(w.alerting !== undefined ? { alerting: w.alerting } : {}) };
}

export function decodeWindow(signal: string, role: StoredWindow["role"], kind: StoredWindow["kind"], data: WindowData, summary: StoredWindow["summary"], updatedAt: number): StoredWindow {
  const w: StoredWindow = { signal, role, kind, values: data.values, summary, updatedAt };
  if (data.categories) w.categories = data.categories;
  if (data.origin) w.origin = data.origin;
  if (data.alerting !== undefined) w.alerting = data.alerting;
  return w;
}
