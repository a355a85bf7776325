// tinywasm-wasi: a browser client for /ws?topic=NAME that reconnects with exponential backoff and resumes after
// the last offset it saw, so that a page misses nothing its topic's history still holds.
// An ES module without dependencies, served by every application with the starter at /tinywasm/topic-socket.js
// (Spring Boot serves META-INF/resources/ of the class path), always the version of the server it talks to.
//
//   import { TopicSocket } from '/tinywasm/topic-socket.js';
//   const chat = new TopicSocket('chat', {
//     onFrame: (bytes, offset) => show(new TextDecoder().decode(bytes)),
//     onReset: (notice) => reloadEverything(),   // the history could not give what was missed
//     onStatus: (status) => badge.textContent = status,
//   });
//
// Wire format: the WebSocket subprotocol 'tinywasm.offsets.v1' (docs/configuration.md, "WebSocket offsets and
// replay"): binary frames [n][offset: n ASCII bytes][payload], and one JSON text notice per connection, after the
// frames that were replayed: {"type":"live",...} or {"type":"reset",...}. A server that does not accept the
// subprotocol sends raw frames; the client then delivers them with a null offset and cannot resume.

export const OFFSETS_PROTOCOL = 'tinywasm.offsets.v1';
/** Close code of a client that fell behind by more than its send buffer: reconnect at once and resume. */
export const LAGGING = 4001;

const decoder = new TextDecoder();

export class TopicSocket {
  /**
   * @param {string} topic the topic
   * @param {object} [options]
   * @param {(payload: Uint8Array, offset: string|null) => void} [options.onFrame] each payload, in order
   * @param {(notice: object) => void} [options.onReset] the offset could not be resumed (out of the history,
   *   another epoch): what was missed is lost, reload the state; live frames follow
   * @param {(notice: object) => void} [options.onNotice] every notice (live or reset)
   * @param {(status: string) => void} [options.onStatus] 'connecting', 'live', 'reconnecting' or 'closed'
   * @param {string} [options.since] an offset to resume after at the first connection (one saved earlier)
   * @param {string} [options.url] the endpoint, e.g. 'wss://example.com/ws' (default: this page's host, path)
   * @param {string} [options.path] the endpoint's path on this page's host (default '/ws')
   * @param {number} [options.minDelay] first reconnection delay in ms (default 500), doubled after each failure
   * @param {number} [options.maxDelay] longest reconnection delay in ms (default 10000)
   */
  constructor(topic, options = {}) {
    this.topic = topic;
    this.options = { path: '/ws', minDelay: 500, maxDelay: 10000, ...options };
    /** The offset of the last frame (or notice) received: where a reconnection resumes. */
    this.offset = options.since ?? null;
    /** The last notice received, or null. */
    this.lastNotice = null;
    this.status = 'closed';
    this.ws = null;
    this.timer = null;
    this.attempt = 0;
    this.stopped = false;
    this.open();
  }

  /** Connects (again), resuming after {@link offset}; for a socket that was closed with {@link close}. */
  open() {
    this.stopped = false;
    clearTimeout(this.timer);
    if (this.ws) return;
    this.setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(this.url(), [OFFSETS_PROTOCOL]);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      // a server without the offsets format sends no notice: live at once
      if (ws === this.ws && ws.protocol !== OFFSETS_PROTOCOL) this.live();
    };
    ws.onmessage = (e) => {
      if (ws === this.ws) this.receive(ws, e.data);
    };
    ws.onclose = (e) => {
      if (ws === this.ws) this.ended(e.code);
    };
  }

  /** Closes for good (until {@link open}); the offset is kept. */
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
    this.setStatus('closed');
  }

  /** Ends the current connection as a network failure would: the socket reconnects with backoff and resumes. */
  drop() {
    if (this.ws) this.ws.close(4000, 'dropped by the client');
  }

  url() {
    let base = this.options.url;
    if (!base) {
      const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
      base = `${scheme}//${location.host}${this.options.path}`;
    }
    const since = this.offset ? `&since=${encodeURIComponent(this.offset)}` : '';
    return `${base}?topic=${encodeURIComponent(this.topic)}${since}`;
  }

  receive(ws, data) {
    if (typeof data === 'string') {
      const notice = JSON.parse(data);
      this.offset = notice.offset;
      this.lastNotice = notice;
      if (this.options.onNotice) this.options.onNotice(notice);
      if (notice.type === 'reset' && this.options.onReset) this.options.onReset(notice);
      this.live();
      return;
    }
    const bytes = new Uint8Array(data);
    if (ws.protocol !== OFFSETS_PROTOCOL) {
      if (this.options.onFrame) this.options.onFrame(bytes, null);
      return;
    }
    const n = bytes[0];
    const offset = decoder.decode(bytes.subarray(1, 1 + n));
    this.offset = offset;
    if (this.options.onFrame) this.options.onFrame(bytes.subarray(1 + n), offset);
  }

  live() {
    this.attempt = 0;
    this.setStatus('live');
  }

  ended(code) {
    this.ws = null;
    if (this.stopped) {
      this.setStatus('closed');
      return;
    }
    this.setStatus('reconnecting');
    // exponential backoff with jitter, so that the clients of a node that went away do not all come back at once
    const base = Math.min(this.options.maxDelay, this.options.minDelay * 2 ** this.attempt);
    const delay = code === LAGGING ? 0 : base / 2 + Math.random() * base / 2;
    this.attempt += 1;
    this.timer = setTimeout(() => this.open(), delay);
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    if (this.options.onStatus) this.options.onStatus(status);
  }
}
