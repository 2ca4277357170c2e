// The camera: the rear camera's frames, decoded with jsQR (vendored) a few
// times a second. Frames are scaled down before decoding: a printed
// voucher's QR code needs about 3 pixels per module, and a smaller image
// keeps an old phone responsive and its battery alive.

const MAX_WIDTH = 800;
const EVERY_MS = 150;

export class Camera {
  // video is the <video> that shows the preview; onCode gets each decoded
  // text; onState gets "starting", "running", "stopped" or an error name
  // ("NotAllowedError", "NotFoundError", "unsupported", …), the camera's
  // real state: a stop while it starts wins.
  constructor(video, onCode, onState) {
    this.video = video;
    this.onCode = onCode;
    this.onState = onState;
    this.stream = null;
    this.state = "stopped"; // the last state told onState
    this.timer = 0;
    this.canvas = document.createElement("canvas");
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
  }

  get running() { return this.stream !== null; }

  // on: running or about to, what a button to stop it stands for.
  get on() { return this.state === "running" || this.state === "starting"; }

  say(s) {
    this.state = s;
    this.onState(s);
  }

  async start() {
    if (this.on) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.say("unsupported"); // an insecure origin (http:// other than localhost) has no camera
      return;
    }
    this.say("starting");
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
      if (this.state !== "starting") { // stopped meanwhile
        stream.getTracks().forEach((t) => t.stop());
        return;
      }
      this.stream = stream;
      this.video.srcObject = stream;
      await this.video.play().catch(() => {});
      if (this.stream !== stream) return; // stopped while the preview started
      this.say("running");
      this.tick();
    } catch (e) {
      if (this.state === "starting") this.say(e && e.name ? e.name : "error");
    }
  }

  stop() {
    clearTimeout(this.timer);
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.video.srcObject = null;
    this.say("stopped");
  }

  tick() {
    if (!this.stream) return;
    const v = this.video;
    if (v.readyState >= 2 && v.videoWidth > 0 && typeof self.jsQR === "function") {
      const scale = Math.min(1, MAX_WIDTH / v.videoWidth);
      const w = Math.round(v.videoWidth * scale), h = Math.round(v.videoHeight * scale);
      if (this.canvas.width !== w || this.canvas.height !== h) {
        this.canvas.width = w;
        this.canvas.height = h;
      }
      this.context.drawImage(v, 0, 0, w, h);
      const image = this.context.getImageData(0, 0, w, h);
      const found = self.jsQR(image.data, w, h, { inversionAttempts: "dontInvert" });
      if (found && found.data) this.onCode(found.data);
    }
    this.timer = setTimeout(() => this.tick(), EVERY_MS);
  }
}

// A short beep and a vibration when a code is read: the volunteer knows it
// was taken without looking at the screen. Browsers let a page make sound
// only after a touch or a key, hence unlock().
let audio = null;

export function unlockSound() {
  try {
    audio = audio || new (self.AudioContext || self.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
  } catch (e) {
    audio = null;
  }
}

export function signal(ok) {
  try {
    if (navigator.vibrate) navigator.vibrate(ok ? 80 : [120, 60, 120]);
  } catch (e) {
    // no vibration on this device
  }
  if (!audio || audio.state !== "running") return;
  const o = audio.createOscillator();
  const g = audio.createGain();
  o.frequency.value = ok ? 1200 : 300;
  g.gain.value = 0.2;
  o.connect(g).connect(audio.destination);
  o.start();
  o.stop(audio.currentTime + (ok ? 0.12 : 0.35));
}
