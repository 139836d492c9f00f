// The door plate by camera: BarcodeDetector where the browser has it, else the vendored jsQR in a
// worker. The decoded string is returned untouched; the server judges it.
let worker = null;

async function detector() {
  if ("BarcodeDetector" in window) {
    try {
      if ((await window.BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
        const native = new window.BarcodeDetector({formats: ["qr_code"]});
        return async (video) => {
          const codes = await native.detect(video);
          return codes.length ? codes[0].rawValue : null;
        };
      }
    } catch { /* fall through to jsQR */ }
  }
  worker ||= new Worker(new URL("./qr-worker.js", import.meta.url));
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", {willReadFrequently: true});
  return (video) => {
    const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.postMessage({data: image.data, width: image.width, height: image.height}, [image.data.buffer]);
    });
  };
}

/** Show the camera in `video` until a QR code is read (its text) or `signal` aborts (null). */
export async function scanPlate(video, signal) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error("camera unavailable on this page");
  }
  const stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false});
  try {
    video.srcObject = stream;
    video.muted = true;
    video.setAttribute("playsinline", "");
    await video.play();
    const read = await detector();
    while (!signal.aborted) {
      if (video.videoWidth) {
        const text = await read(video);
        if (text) return text;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    return null;
  } finally {
    stream.getTracks().forEach((track) => track.stop());
    video.srcObject = null;
  }
}

/** The plate id of a static (CR1) or dynamic (CR1D) payload, for the wrong-elder warning only. */
export function plateIdOf(payload) {
  const parts = String(payload).split(".");
  return parts.length === 4 && (parts[0] === "CR1" || parts[0] === "CR1D") ? parts[1] : null;
}
