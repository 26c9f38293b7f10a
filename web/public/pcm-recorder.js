// An AudioWorklet that hands each block of the first input channel to the page, for the
// voice recorder's WAV fallback (src/audio/wav.ts). Served as a file of its own: the page's
// Content-Security-Policy loads scripts from its origin only.
class PcmRecorder extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.port.postMessage(channel.slice(0));
    return true;
  }
}
registerProcessor("pcm-recorder", PcmRecorder);
