// A streamed upstream body as completion chunks, for any SSE dialect: the
// body's buffers are parsed into SSE events synchronously, a dialect's
// translator turns each event into chunks, and every chunk already received is
// handed out by nextBuffered() without a promise (core/buffered-iterator.ts),
// or by next() as a resolved one: one body read per body buffer.
import { nextBuffered, type BufferedAsyncIterator } from "../../core/buffered-iterator.js";
import type { ChatCompletionChunk } from "../../protocol/openai.js";
import { SseDecoder, type SSEEvent } from "../../protocol/sse.js";

/** One upstream dialect's events → chunks. */
export interface ChunkTranslator {
  /**
   * The chunks `ev` gives: none, one (the common case, no array) or several.
   * Throws on an error event or bad data.
   */
  event(ev: SSEEvent): ChatCompletionChunk | ChatCompletionChunk[] | undefined;
  /** The stream's end event came (OpenAI's [DONE], Anthropic's message_stop): nothing more to read. */
  readonly ended: boolean;
  /** The body ended without an end event: throws if what came is not a whole answer. */
  bodyEnded(): void;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
const CLOSE = Symbol("close");

export class SseChunkStream implements BufferedAsyncIterator<ChatCompletionChunk> {
  private readonly sse: SseDecoder;
  private readonly body: AsyncIterator<Buffer>;
  private events: SSEEvent[] = [];
  private at = 0;
  /** The rest of an event that gave several chunks. */
  private several: ChatCompletionChunk[] | undefined;
  private severalAt = 0;
  /** The body ended (everything left is in `events`). */
  private bodyDone = false;
  private done = false;
  /** nextBuffered() reached the end event: the next next() stops reading the body. */
  private closing = false;

  constructor(
    body: AsyncIterable<Buffer>,
    private readonly translator: ChunkTranslator,
    maxEventBytes: number,
  ) {
    this.sse = new SseDecoder(maxEventBytes);
    this.body = body[Symbol.asyncIterator]();
  }

  next(): Promise<IteratorResult<ChatCompletionChunk, undefined>> {
    let r: IteratorResult<ChatCompletionChunk, undefined> | undefined;
    try {
      r = this.nextBuffered();
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.closing) {
      this.closing = false;
      return this.close();
    }
    return r ? Promise.resolve(r) : this.pull();
  }

  nextBuffered(): IteratorResult<ChatCompletionChunk, undefined> | undefined {
    if (this.closing) return undefined;
    try {
      for (;;) {
        const r = this.take();
        if (r === CLOSE) {
          this.closing = true;
          return undefined;
        }
        if (r) return r;
        // Out of parsed events: parse what the body already holds, if anything.
        const b = nextBuffered(this.body);
        if (!b) return undefined;
        this.feed(b);
      }
    } catch (e) {
      this.done = true;
      throw e;
    }
  }

  /** At the end event: stop reading the body (without destroying it, so its tail can drain) and end. */
  private async close(): Promise<IteratorReturnResult<undefined>> {
    await this.body.return?.();
    return DONE;
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    if (!this.done) {
      this.done = true;
      await this.body.return?.();
    }
    return DONE;
  }

  private feed(r: IteratorResult<Buffer>): void {
    if (r.done) {
      this.bodyDone = true;
      this.events = this.sse.finish();
    } else this.events = this.sse.push(r.value);
    this.at = 0;
  }

  /** The next result from what is already parsed, CLOSE at the end event, or undefined when more body is needed. */
  private take(): IteratorResult<ChatCompletionChunk, undefined> | typeof CLOSE | undefined {
    for (;;) {
      if (this.several) {
        const value = this.several[this.severalAt++]!;
        if (this.severalAt >= this.several.length) this.several = undefined;
        return { done: false, value };
      }
      if (this.done) return DONE;
      if (this.translator.ended) {
        this.done = true;
        this.events = [];
        return CLOSE;
      }
      if (this.at >= this.events.length) break;
      const got = this.translator.event(this.events[this.at++]!);
      if (got === undefined) continue;
      if (!Array.isArray(got)) return { done: false, value: got };
      if (got.length) {
        this.several = got;
        this.severalAt = 0;
      }
    }
    if (!this.bodyDone) return undefined;
    this.done = true;
    this.translator.bodyEnded();
    return DONE;
  }

  private async pull(): Promise<IteratorResult<ChatCompletionChunk, undefined>> {
    try {
      for (;;) {
        this.feed(await this.body.next());
        const out = this.take();
        if (out === CLOSE) return await this.close();
        if (out) return out;
      }
    } catch (e) {
      this.done = true;
      throw e;
    }
  }
}
