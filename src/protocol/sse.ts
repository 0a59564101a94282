// Server-Sent Events: an incremental parser for upstream streams and the
// encoders the gateway writes with. The parser works on the raw Node body
// (Buffer chunks), never on web streams, and bounds memory per event.
import { StratumError } from "../core/errors.js";

export interface SSEEvent {
  event?: string;
  data: string;
}

const LF = 10;
const CR = 13;

/**
 * Parse an SSE byte/text stream into events. `data:` lines are joined with
 * "\n"; `event:` names the event; comments, `id:` and `retry:` are ignored;
 * LF, CRLF and CR line endings are accepted, also when split across chunks.
 * An event (its pending line plus accumulated data) longer than
 * `maxEventBytes` (counted in UTF-16 units, = bytes for ASCII JSON) throws
 * UpstreamProtocol instead of growing without bound.
 * Deviation from the spec, on purpose: an unterminated final event is still
 * dispatched at end of stream, so a truncated payload surfaces as a JSON
 * error downstream rather than vanishing silently.
 */
export async function* parseSSE(
  body: AsyncIterable<Buffer | Uint8Array | string>,
  maxEventBytes = 1 << 20,
): AsyncGenerator<SSEEvent> {
  const decoder = new TextDecoder("utf-8");
  // A line split across chunks is kept as pieces and joined once complete.
  let partial: string[] = [];
  let partialLen = 0;
  let data = "";
  let hasData = false;
  let event: string | undefined;
  let skipLF = false; // previous chunk ended with CR; a leading LF belongs to it
  let first = true;

  const tooLarge = () =>
    new StratumError("UpstreamProtocol", `upstream stream event exceeds ${maxEventBytes} bytes`);

  // Returns an event when this line completes one.
  const line = (l: string): SSEEvent | undefined => {
    if (l.length === 0) {
      if (!hasData) {
        event = undefined;
        return undefined;
      }
      const ev: SSEEvent = event === undefined ? { data } : { event, data };
      data = "";
      hasData = false;
      event = undefined;
      return ev;
    }
    if (l.charCodeAt(0) === 58 /* ':' comment */) return undefined;
    const colon = l.indexOf(":");
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? "" : l.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* ' ' */) value = value.slice(1);
    if (field === "data") {
      data = hasData ? data + "\n" + value : value;
      hasData = true;
      if (data.length > maxEventBytes) throw tooLarge();
    } else if (field === "event") {
      event = value;
    }
    return undefined;
  };

  for await (const chunk of body) {
    let text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let pos = 0;
    const n = text.length;
    if (skipLF && n > 0) {
      skipLF = false;
      if (text.charCodeAt(0) === LF) pos = 1;
    }
    // Cached search positions keep the scan linear in the chunk length.
    let nl = -2;
    let cr = -2;
    while (pos < n) {
      if (nl !== -1 && nl < pos) nl = text.indexOf("\n", pos);
      if (cr !== -1 && cr < pos) cr = text.indexOf("\r", pos);
      const end = nl === -1 ? cr : cr === -1 ? nl : Math.min(nl, cr);
      if (end === -1) {
        partial.push(pos === 0 ? text : text.slice(pos));
        partialLen += n - pos;
        if (partialLen + data.length > maxEventBytes) throw tooLarge();
        break;
      }
      let l = text.slice(pos, end);
      if (partialLen > 0) {
        partial.push(l);
        l = partial.join("");
        partial = [];
        partialLen = 0;
      }
      if (text.charCodeAt(end) === CR) {
        if (end + 1 < n) pos = text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
        else {
          pos = n;
          skipLF = true;
        }
      } else pos = end + 1;
      const ev = line(l);
      if (ev) yield ev;
    }
  }
  const tail = decoder.decode();
  if (tail) partial.push(tail);
  if (partial.length > 0) line(partial.join(""));
  const last = line("");
  if (last) yield last;
}

/** One `data:` event carrying JSON. */
export function sseData(obj: unknown): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}

/** A named event carrying JSON (the Anthropic style). */
export function sseEvent(event: string, obj: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(obj)}\n\n`;
}

/** The OpenAI end-of-stream sentinel. */
export const SSE_DONE = "data: [DONE]\n\n";
