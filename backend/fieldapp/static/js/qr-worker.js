// Decodes QR codes off the main thread with the vendored jsQR (phones without BarcodeDetector).
/* global jsQR */
importScripts("../vendor/jsqr-1.4.0/jsQR.js");

self.onmessage = (event) => {
  const {data, width, height} = event.data;
  const found = jsQR(data, width, height, {inversionAttempts: "attemptBoth"});
  self.postMessage(found ? found.data : null);
};
