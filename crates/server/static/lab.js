// The laboratory's result entry: the shared QR camera (static/camera.js) reads a sample or pool label, fills
// the label field and looks it up, as typing it and pressing the button does.
'use strict';

(() => {
  const find = document.getElementById('lab-find');
  if (!find) return;
  const field = document.getElementById('lab-label');
  const start = document.getElementById('camera-start');
  start.hidden = false; // the camera works only with this script
  qrCamera({
    video: document.getElementById('camera'),
    canvas: document.getElementById('frame'),
    start,
    stop: document.getElementById('camera-stop'),
    onText: text => { field.value = text.trim(); find.submit(); },
    onNoCamera: () => { document.getElementById('camera-status').textContent = T.no_camera; },
  });
})();
