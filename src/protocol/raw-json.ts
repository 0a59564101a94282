// The JSON text an object was parsed from, kept beside it so that an object
// passed on unchanged is re-sent as that text instead of re-serialised (a
// streamed chunk costs a JSON.stringify per event otherwise). Keyed by
// identity in a WeakMap, so the text lives exactly as long as the object.
//
// The contract that makes identity mean "unchanged": objects registered here
// are never mutated. Streamed chunks are treated as immutable from the
// provider to the gateway's encoder: a stage that changes a chunk makes a new
// object (`{ ...chunk, ... }`), which has no text here and is serialised.
const texts = new WeakMap<object, string>();

/** Remember `text` as the exact JSON of `obj` (which must then stay unchanged). */
export function keepJsonText(obj: object, text: string): void {
  texts.set(obj, text);
}

/** The JSON text `obj` was parsed from, if it was registered. */
export function jsonTextOf(obj: object): string | undefined {
  return texts.get(obj);
}
