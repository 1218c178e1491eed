// Browser-microphone mode: getUserMedia → AudioWorklet (16 kHz mono PCM, 100 ms chunks) →
// binary messages on the page's /ws connection. The edge encodes Opus and streams as usual.

/** A page-side failure with one of the page's own codes (see i18n.js). */
export class MicError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class BrowserMicrophone {
  /**
   * @param {(chunk: ArrayBuffer) => void} onChunk gets 3200-byte chunks once `sending` is on
   * @param {{resampleInWorklet?: boolean}} options run the context at the device's rate and
   *   resample in the worklet (what happens where a 16 kHz context is refused)
   */
  constructor(onChunk, options = {}) {
    this.onChunk = onChunk;
    this.options = options;
    this.sending = false;
    this.stream = null;
    this.context = null;
    this.node = null;
  }

  static get supported() {
    return Boolean(window.isSecureContext && navigator.mediaDevices?.getUserMedia && window.AudioWorkletNode);
  }

  async open() {
    if (!BrowserMicrophone.supported) throw new MicError("mic_unsupported", "getUserMedia or AudioWorklet is unavailable");
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
        video: false,
      });
    } catch (error) {
      throw micError(error);
    }
    try {
      // A 16 kHz context lets the browser resample; where a context cannot take a stream of
      // another rate (Firefox), fall back to the default rate and resample in the worklet.
      let source;
      try {
        if (this.options.resampleInWorklet) throw new Error("resampling in the worklet");
        this.context = new AudioContext({ sampleRate: 16000, latencyHint: "interactive" });
        source = this.context.createMediaStreamSource(this.stream);
      } catch {
        await this.context?.close().catch(() => {});
        this.context = new AudioContext({ latencyHint: "interactive" });
        source = this.context.createMediaStreamSource(this.stream);
      }
      await this.context.audioWorklet.addModule(new URL("./pcm-worklet.js", import.meta.url));
      this.node = new AudioWorkletNode(this.context, "pcm-capture", {
        numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1], channelCount: 1, channelCountMode: "explicit",
      });
      this.node.port.onmessage = (event) => {
        if (this.sending) this.onChunk(event.data);
      };
      source.connect(this.node);
      this.node.connect(this.context.destination);
      if (this.context.state === "suspended") await this.context.resume();
    } catch (error) {
      await this.close();
      throw new MicError("mic_unavailable", String(error?.message ?? error));
    }
  }

  /** The rate the worklet resamples from (16000 when the browser does it). */
  get contextRate() {
    return this.context?.sampleRate ?? null;
  }

  async close() {
    this.sending = false;
    try { this.node?.port.postMessage("stop"); } catch { /* already gone */ }
    try { this.node?.disconnect(); } catch { /* already gone */ }
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    await this.context?.close().catch(() => {});
    this.node = null;
    this.context = null;
    this.stream = null;
  }
}

function micError(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return new MicError("mic_permission_denied", error.message);
    case "NotFoundError":
    case "OverconstrainedError":
      return new MicError("mic_not_found", error.message);
    default:
      return new MicError("mic_unavailable", String(error?.message ?? error));
  }
}
