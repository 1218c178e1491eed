// The page's /ws connection to the edge that serves it: the edge's events come in, the browser
// microphone's PCM goes out. It reconnects with backoff for as long as the page is open.

/** Binary audio waiting in the socket beyond this is dropped rather than queued without end. */
const MAX_BUFFERED_BYTES = 64 * 1024;

export class EdgeSocket {
  /**
   * @param {{onOpen: (reconnected: boolean) => void, onEvent: (event: object) => void, onClose: () => void}} handlers
   */
  constructor({ onOpen, onEvent, onClose }) {
    this.onOpen = onOpen;
    this.onEvent = onEvent;
    this.onClose = onClose;
    this.socket = null;
    this.everOpened = false;
    this.reconnectDelay = 500;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws`);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.addEventListener("open", () => {
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.reconnectDelay = 500;
      this.onOpen(reconnected);
    });
    socket.addEventListener("message", (message) => {
      if (typeof message.data !== "string") return;
      let event;
      try { event = JSON.parse(message.data); } catch { return; }
      this.onEvent(event);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.onClose();
      setTimeout(() => this.connect(), this.reconnectDelay);
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, 8000);
    });
  }

  /** One chunk of the browser microphone's PCM; dropped while the socket is closed or backed up. */
  sendAudio(chunk) {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) return;
    socket.send(chunk);
  }
}
