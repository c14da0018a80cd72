// Host end of the link layer: one request in flight, matched to its response by seq.
// Lost or damaged frames are resent with the same seq (the board replays its cached
// response for a duplicate, so nothing runs twice); stale responses are dropped; every
// wait has a timeout, so a silent board is an error, never a hang.
import {
  COMMANDS, ERRORS, ERROR_CODE, ERROR_RESPONSE, RESPONSE_FLAG, RETRYABLE_ERRORS, UNSOLICITED_SEQ, type CommandName,
} from "./protocol-spec.ts";
import { decodeFrame, encodeFrame, FrameError, FrameSplitter, unpackPayload, type Frame } from "./protocol.ts";
import type { SerialTransport } from "./transport.ts";

export interface LinkOptions {
  /** Per attempt; INVOKE can override. */
  timeoutMs?: number;
  /** Attempts per request (first send included). */
  attempts?: number;
  /**
   * Test hook: the byte chunks actually written for one send of a frame. Return [] to drop
   * it, [wire, wire] to duplicate it, a damaged copy to corrupt it; undefined = unchanged.
   */
  tamper?: (wire: Uint8Array, info: { command: CommandName; seq: number; attempt: number; index: number }) => Uint8Array[] | undefined;
}

const ERROR_NAMES = Object.fromEntries(Object.entries(ERRORS).map(([k, v]) => [v, k]));
const COMMAND_NAMES = Object.fromEntries(Object.entries(COMMANDS).map(([k, v]) => [v, k]));

/** The board answered with an error frame. */
export class BoardError extends Error {
  constructor(readonly command: string, readonly error: number, readonly detail: number, message: string) {
    super(message);
  }
  get errorName(): string { return ERROR_NAMES[this.error] ?? `error ${this.error}`; }
}

export class BoardTimeoutError extends Error {}

export class BoardLink {
  private readonly splitter = new FrameSplitter();
  private seq = Math.floor(Math.random() * 0xfff0); // random start: a stale duplicate from an earlier session cannot match
  private waiter?: (f: Frame | FrameError) => void;
  private fault?: BoardError;
  private sent = 0;
  private readonly unsubscribe: () => void;
  /** Counters for tests and diagnostics. */
  readonly counters = { resends: 0, timeouts: 0, badIncoming: 0, stale: 0 };

  constructor(private readonly transport: SerialTransport, private readonly opts: LinkOptions = {}) {
    this.unsubscribe = transport.onData((d) => this.receive(d));
  }

  private receive(data: Uint8Array): void {
    for (const block of this.splitter.push(data)) {
      let frame: Frame | FrameError;
      try {
        frame = decodeFrame(block);
      } catch (e) {
        if (!(e instanceof FrameError)) throw e;
        this.counters.badIncoming++;
        frame = e;
      }
      if (!(frame instanceof FrameError) && frame.code === ERROR_CODE && frame.seq === UNSOLICITED_SEQ) {
        const err = this.errorFrom("(none)", frame);
        if (err.error === ERRORS.FAULT) this.fault = err;
      }
      this.waiter?.(frame);
    }
  }

  private errorFrom(command: string, f: Frame): BoardError {
    const { values, tail } = unpackPayload(ERROR_RESPONSE, f.payload, "error response");
    const name = ERROR_NAMES[values.error] ?? `error ${values.error}`;
    const text = tail.length ? `: ${new TextDecoder().decode(tail)}` : "";
    const what = values.error === ERRORS.FAULT
      ? `the board CPU faulted at pc=0x${values.detail.toString(16)}; restart the board`
      : `board answered ${command} with ${name} (detail ${values.detail})${text}`;
    return new BoardError(command, values.error, values.detail, what);
  }

  /** Sends one request and resolves with the successful response frame's payload. */
  async request(command: CommandName, payload: Uint8Array = new Uint8Array(0), timeoutMs?: number): Promise<Uint8Array> {
    if (this.waiter) throw new Error("BoardLink: one request at a time");
    const code = COMMANDS[command];
    this.seq = (this.seq + 1) % UNSOLICITED_SEQ;
    const seq = this.seq;
    const wire = encodeFrame(code, seq, payload);
    const attempts = this.opts.attempts ?? 6;
    const perTry = timeoutMs ?? this.opts.timeoutMs ?? 3000;
    try {
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (this.fault) throw this.fault;
        const outcome = await this.exchange(command, code, seq, wire, attempt, perTry);
        if (outcome instanceof Uint8Array) return outcome;
        this.counters.resends++;
      }
    } finally {
      this.waiter = undefined;
    }
    throw new BoardTimeoutError(
      `board did not answer ${command} after ${attempts} attempts of ${perTry} ms each ` +
      `(is the firmware running and built for this protocol? check the port, the board, and that nothing else uses it)`,
    );
  }

  /** One send and wait. Resolves with the payload, or "retry"; rejects on a board error. */
  private exchange(command: CommandName, code: number, seq: number, wire: Uint8Array, attempt: number, ms: number): Promise<Uint8Array | "retry"> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.counters.timeouts++; resolve("retry"); }, ms);
      const done = (v: Uint8Array | "retry" | Error) => {
        clearTimeout(timer);
        this.waiter = undefined;
        if (v instanceof Error) reject(v); else resolve(v);
      };
      this.waiter = (f) => {
        if (f instanceof FrameError) return done("retry"); // our answer may be the damaged one: ask again
        if (f.code === ERROR_CODE) {
          const err = this.errorFrom(command, f);
          if (err.error === ERRORS.FAULT) return done(err);
          if (RETRYABLE_ERRORS.includes(err.error) && (f.seq === seq || f.seq === UNSOLICITED_SEQ)) return done("retry");
          if (f.seq !== seq) { this.counters.stale++; return; }
          return done(err);
        }
        if (f.seq !== seq) { this.counters.stale++; return; }
        if (f.code !== (code | RESPONSE_FLAG)) {
          return done(new Error(`board answered ${command} with code 0x${f.code.toString(16)} (${COMMAND_NAMES[f.code & 0x7f] ?? "?"})`));
        }
        done(f.payload);
      };
      const chunks = this.opts.tamper?.(wire, { command, seq, attempt, index: this.sent++ }) ?? [wire];
      // One write, so a tampered send's pieces cannot interleave with the next request's frame.
      const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      chunks.reduce((at, c) => { bytes.set(c, at); return at + c.length; }, 0);
      if (bytes.length) this.transport.write(bytes).catch((e) => done(e as Error));
    });
  }

  close(): void {
    this.unsubscribe();
  }
}
