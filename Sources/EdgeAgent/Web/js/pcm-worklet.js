// AudioWorklet processor: mono 16 kHz signed 16-bit PCM from whatever rate the AudioContext
// runs at. Posts one ArrayBuffer per 100 ms (1600 samples, 3200 bytes; five 20 ms frames) to
// the page, which sends it to the edge over /ws.

const OUTPUT_RATE = 16000;
const CHUNK_SAMPLES = 1600;

class PcmCaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    // `sampleRate` is the AudioContext's rate (a global in the worklet scope).
    this.step = sampleRate / OUTPUT_RATE;
    this.chunk = new Int16Array(CHUNK_SAMPLES);
    this.filled = 0;
    // Downsampling: average the input samples that fall into each output sample's span (a
    // box filter, which also keeps most aliasing out). `boundary` is where the current output
    // sample's span ends, in input samples counted from `consumed`.
    this.sum = 0;
    this.count = 0;
    this.boundary = this.step;
    this.consumed = 0;
    // Upsampling (contexts below 16 kHz): linear interpolation from the previous sample.
    this.previous = 0;
    this.position = 0;
    this.stopped = false;
    this.port.onmessage = (event) => {
      if (event.data === "stop") this.stopped = true;
    };
  }

  emit(value) {
    const clamped = Math.max(-1, Math.min(1, value));
    this.chunk[this.filled++] = clamped < 0 ? Math.round(clamped * 0x8000) : Math.round(clamped * 0x7fff);
    if (this.filled === CHUNK_SAMPLES) {
      const buffer = this.chunk.buffer;
      this.port.postMessage(buffer, [buffer]);
      this.chunk = new Int16Array(CHUNK_SAMPLES);
      this.filled = 0;
    }
  }

  process(inputs, outputs) {
    if (this.stopped) return false;
    const input = inputs[0];
    if (input && input.length > 0) {
      const channels = input.length;
      const frames = input[0].length;
      for (let i = 0; i < frames; i++) {
        let sample = 0;
        for (let c = 0; c < channels; c++) sample += input[c][i];
        sample /= channels;
        if (this.step === 1) {
          this.emit(sample);
        } else if (this.step > 1) {
          this.sum += sample;
          this.count += 1;
          this.consumed += 1;
          if (this.consumed >= this.boundary) {
            this.emit(this.sum / this.count);
            this.sum = 0;
            this.count = 0;
            this.boundary += this.step;
            // Keep the counters small over long sessions.
            if (this.consumed > 1e6) {
              this.consumed -= 1e6;
              this.boundary -= 1e6;
            }
          }
        } else {
          // Each input sample spans 1/step output samples.
          while (this.position < 1) {
            this.emit(this.previous + (sample - this.previous) * this.position);
            this.position += this.step;
          }
          this.position -= 1;
          this.previous = sample;
        }
      }
    }
    // Silence out: the node is connected to the destination only so that it keeps running.
    for (const output of outputs) for (const channel of output) channel.fill(0);
    return true;
  }
}

registerProcessor("pcm-capture", PcmCaptureProcessor);
