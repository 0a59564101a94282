// The JSON text an object was parsed from, kept on it so that an object
// passed on unchanged is re-sent as that text instead of re-serialised (a
// streamed chunk costs a JSON.stringify per event otherwise). The text sits in
// a non-enumerable symbol property: spreads, JSON.stringify, structuredClone
// and deepStrictEqual all ignore it, so it lives exactly as long as the object
// and never travels to a copy. (A WeakMap did the same, but its ephemeron
// entries cost ~0.5 µs of GC work per chunk under load.)
//
// The contract that makes identity mean "unchanged": objects registered here
// are never mutated. Streamed chunks are treated as immutable from the
// provider to the gateway's encoder: a stage that changes a chunk makes a new
// object (`{ ...chunk, ... }`), which has no text and is serialised.
const JSON_TEXT = Symbol("stratum.jsonText");

/** Remember `text` as the exact JSON of `obj` (which must then stay unchanged). */
export function keepJsonText(obj: object, text: string): void {
  Object.defineProperty(obj, JSON_TEXT, { value: text, configurable: true });
}

/** The JSON text `obj` was parsed from, if it was registered. */
export function jsonTextOf(obj: object): string | undefined {
  return (obj as { [JSON_TEXT]?: string })[JSON_TEXT];
}
