// Voice notes recorded in the browser, in a format the server accepts (WAV, MP3, M4A/AAC,
// Ogg Opus). MediaRecorder writes Ogg Opus in Firefox and MP4/AAC in Safari; Chromium
// writes only WebM or MP4 with Opus inside, which the server does not read, so there the
// microphone's samples are taken through Web Audio and written as 16-bit WAV.

/** Containers the server accepts that MediaRecorder may write, best first. */
const RECORDER_TYPES = ["audio/ogg;codecs=opus", "audio/mp4;codecs=mp4a.40.2"];

export interface Recording {
  /** Stops the recording and the microphone; resolves with the file. */
  stop(): Promise<Blob>;
}

export function canRecord(): boolean {
  return typeof navigator.mediaDevices?.getUserMedia === "function" && (mediaRecorderType() !== undefined || "AudioWorkletNode" in window);
}

export async function startRecording(): Promise<Recording> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const release = () => stream.getTracks().forEach((t) => t.stop());
  try {
    const type = mediaRecorderType();
    return type ? withMediaRecorder(stream, type, release) : await asWav(stream, release);
  } catch (err) {
    release();
    throw err;
  }
}

function mediaRecorderType(): string | undefined {
  if (typeof MediaRecorder === "undefined") return undefined;
  return RECORDER_TYPES.find((t) => MediaRecorder.isTypeSupported(t));
}

function withMediaRecorder(stream: MediaStream, mimeType: string, release: () => void): Recording {
  const chunks: Blob[] = [];
  const recorder = new MediaRecorder(stream, { mimeType });
  recorder.ondataavailable = (e) => chunks.push(e.data);
  recorder.start();
  return {
    stop: () =>
      new Promise((resolve) => {
        recorder.onstop = () => {
          release();
          resolve(new Blob(chunks, { type: mimeType }));
        };
        recorder.stop();
      }),
  };
}

async function asWav(stream: MediaStream, release: () => void): Promise<Recording> {
  const context = new AudioContext();
  await context.audioWorklet.addModule("/pcm-recorder.js");
  const source = context.createMediaStreamSource(stream);
  const recorder = new AudioWorkletNode(context, "pcm-recorder");
  const blocks: Float32Array[] = [];
  recorder.port.onmessage = (e: MessageEvent<Float32Array>) => blocks.push(e.data);
  // Silent, but connected: a node nothing pulls from may not be processed.
  const mute = new GainNode(context, { gain: 0 });
  source.connect(recorder).connect(mute).connect(context.destination);
  return {
    async stop() {
      source.disconnect();
      recorder.disconnect();
      release();
      const rate = context.sampleRate;
      await context.close();
      return wav(blocks, rate);
    },
  };
}

/** Mono 16-bit PCM WAV of `blocks` at `rate`. */
function wav(blocks: Float32Array[], rate: number): Blob {
  const samples = blocks.reduce((n, b) => n + b.length, 0);
  const view = new DataView(new ArrayBuffer(44 + samples * 2));
  const text = (at: number, s: string) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + samples * 2, true);
  text(8, "WAVEfmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true); // bytes per second
  view.setUint16(32, 2, true); // bytes per frame
  view.setUint16(34, 16, true); // bits per sample
  text(36, "data");
  view.setUint32(40, samples * 2, true);
  let at = 44;
  for (const block of blocks) {
    for (const s of block) {
      view.setInt16(at, Math.max(-1, Math.min(1, s)) * 0x7fff, true);
      at += 2;
    }
  }
  return new Blob([view.buffer], { type: "audio/wav" });
}
