// The QR camera the pass scanner and the laboratory's result entry share: BarcodeDetector where the browser
// has it, the vendored jsQR otherwise. A page gives its preview, a canvas, its start and stop buttons, what
// to do with a code read (the same code within 3 s is read once) and what to say when there is no camera.
'use strict';

function qrCamera({ video, canvas, start, stop, onText, onNoCamera }) {
  let last = { text: '', at: 0 };
  const seen = text => {
    if (!text || (text === last.text && Date.now() - last.at < 3000)) return;
    last = { text, at: Date.now() };
    onText(text);
  };
  const loadScript = src => new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src; s.onload = resolve; s.onerror = reject;
    document.head.append(s);
  });
  let detector;    // BarcodeDetector, or null once jsQR is loaded; undefined until the camera first starts
  let cameraRun = 0; // bumped by each start and stop, so that a stopped camera's loop ends

  async function startCamera() {
    const run = ++cameraRun;
    start.hidden = true;
    try {
      // The back camera, which faces the pass or the label.
      video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    } catch (e) {
      onNoCamera();
      start.hidden = false;
      return;
    }
    if (run !== cameraRun) { stopCamera(); return; } // stopped while the browser was asking
    video.hidden = false;
    stop.hidden = false;
    await video.play();
    if (detector === undefined) {
      if ('BarcodeDetector' in window && (await BarcodeDetector.getSupportedFormats()).includes('qr_code')) {
        detector = new BarcodeDetector({ formats: ['qr_code'] });
      } else {
        await loadScript('/static/jsQR.js');
        detector = null;
      }
    }
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const tick = async () => {
      if (run !== cameraRun) return;
      if (video.readyState >= 2) {
        if (detector) {
          const codes = await detector.detect(video).catch(() => []);
          if (codes.length) seen(codes[0].rawValue);
        } else {
          const scale = Math.min(1, 800 / video.videoWidth);
          canvas.width = Math.round(video.videoWidth * scale);
          canvas.height = Math.round(video.videoHeight * scale);
          ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
          const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
          const code = jsQR(img.data, img.width, img.height, { inversionAttempts: 'dontInvert' });
          if (code) seen(code.data);
        }
      }
      setTimeout(tick, 120);
    };
    tick();
  }

  // Stops the stream's tracks (the camera's light goes off) and hides the preview.
  function stopCamera() {
    cameraRun++;
    if (video.srcObject) video.srcObject.getTracks().forEach(t => t.stop());
    video.srcObject = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
  }

  start.addEventListener('click', startCamera);
  stop.addEventListener('click', stopCamera);
  return { stop: stopCamera };
}
