// A signature drawn on the screen with a finger (pointer events), kept as a PNG.
import {h} from "./dom.js";

export function signaturePad() {
  const canvas = h("canvas", {class: "signature", width: 600, height: 220});
  const context = canvas.getContext("2d");
  let drawing = false;
  let empty = true;
  const reset = () => {
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.lineWidth = 4;
    context.lineCap = "round";
    context.strokeStyle = "#111";
    empty = true;
  };
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    context.beginPath();
    context.moveTo(...at(event));
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    context.lineTo(...at(event));
    context.stroke();
    empty = false;
  });
  const stop = () => { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  reset();
  return {
    canvas,
    clear: reset,
    isEmpty: () => empty,
    blob: () => new Promise((resolve) => canvas.toBlob(resolve, "image/png")),
  };
}
