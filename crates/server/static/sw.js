// Keeps the scanner page and its scripts so that it opens with the network gone. Network first: the page
// carries the operator's locations, and the copy in the cache is only for when the network is down.
'use strict';
const CACHE = 'kiemdich-scanner-v1';
const SHELL = ['/scan', '/static/app.js', '/static/camera.js', '/static/scan.js', '/static/jsQR.js'];

self.addEventListener('install', e => {
  e.waitUntil(caches.open(CACHE).then(c => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', e => {
  e.waitUntil(caches.keys()
    .then(keys => Promise.all(keys.filter(k => k !== CACHE).map(k => caches.delete(k))))
    .then(() => self.clients.claim()));
});
self.addEventListener('fetch', e => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin || !SHELL.includes(url.pathname)) return;
  e.respondWith(fetch(e.request)
    .then(res => {
      if (res.ok) { const copy = res.clone(); caches.open(CACHE).then(c => c.put(url.pathname, copy)); }
      return res;
    })
    .catch(() => caches.match(url.pathname)));
});
