// The scanner: decides from the pass itself (KD1 signature checked with the cached trust list and revocation
// list), stores every scan in IndexedDB before showing it, and sends the queue to the server whenever the
// network is there. The idempotency key of each scan makes resending safe: the server stores it once.
'use strict';

const cfg = JSON.parse(document.getElementById('scan-config').textContent);
const SKEW = 300; // seconds of clock difference tolerated, as on the server

// ---- IndexedDB: kv (trust list, revocations, cursor), queue (scans not yet acknowledged), conflicts.
const dbReady = new Promise((resolve, reject) => {
  const r = indexedDB.open('kiemdich-scanner', 1);
  r.onupgradeneeded = () => {
    r.result.createObjectStore('kv');
    r.result.createObjectStore('queue', { keyPath: 'idempotency_key' });
    r.result.createObjectStore('conflicts', { keyPath: 'idempotency_key' });
  };
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

// One request in its own transaction; resolves once the transaction is durably committed.
async function idb(store, mode, op) {
  const db = await dbReady;
  return new Promise((resolve, reject) => {
    const t = db.transaction(store, mode, { durability: 'strict' });
    const req = op(t.objectStore(store));
    t.oncomplete = () => resolve(req.result);
    t.onerror = () => reject(t.error);
  });
}
const kvGet = k => idb('kv', 'readonly', s => s.get(k));
const kvPut = (k, v) => idb('kv', 'readwrite', s => s.put(v, k));

// ---- KD1: Base45, a small CBOR reader, COSE_Sign1 with Ed25519 through WebCrypto.
const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
function base45(s) {
  const out = [];
  for (let i = 0; i < s.length; i += 3) {
    const c = [...s.slice(i, i + 3)].map(ch => B45.indexOf(ch));
    if (c.includes(-1)) throw new Error('bad_base45');
    const n = c[0] + c[1] * 45 + (c.length === 3 ? c[2] * 2025 : 0);
    if (c.length === 3) { if (n > 0xffff) throw new Error('bad_base45'); out.push(n >> 8, n & 0xff); }
    else if (c.length === 2) { if (n > 0xff) throw new Error('bad_base45'); out.push(n); }
    else throw new Error('bad_base45');
  }
  return new Uint8Array(out);
}

function cbor(bytes) {
  let i = 0;
  const need = n => { if (i + n > bytes.length) throw new Error('bad_cbor'); };
  const arg = info => {
    if (info < 24) return info;
    const n = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
    if (!n) throw new Error('bad_cbor');
    need(n);
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 256 + bytes[i++];
    return v;
  };
  const item = () => {
    need(1);
    const b = bytes[i++], major = b >> 5, info = b & 31;
    if (major === 7) {
      if (info === 20) return false; if (info === 21) return true; if (info === 22) return null;
      throw new Error('bad_cbor');
    }
    const n = arg(info);
    switch (major) {
      case 0: return n;
      case 1: return -1 - n;
      case 2: need(n); i += n; return bytes.slice(i - n, i);
      case 3: need(n); i += n; return new TextDecoder().decode(bytes.slice(i - n, i));
      case 4: return Array.from({ length: n }, item);
      case 5: { const m = new Map(); for (let k = 0; k < n; k++) { const key = item(); m.set(key, item()); } return m; }
      default: return { tag: n, value: item() };
    }
  };
  const v = item();
  if (i !== bytes.length) throw new Error('bad_cbor');
  return v;
}

function bstrHead(n) {
  if (n < 24) return [0x40 + n];
  if (n < 256) return [0x58, n];
  return [0x59, n >> 8, n & 0xff];
}

// COSE Sig_structure ["Signature1", protected, h'', payload]
function sigStructure(protectedBytes, payload) {
  const parts = [[0x84, 0x6a], [...new TextEncoder().encode('Signature1')], bstrHead(protectedBytes.length),
    [...protectedBytes], [0x40], bstrHead(payload.length), [...payload]];
  return new Uint8Array(parts.flat());
}

const b64url = s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0));
const hex = b => Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
const STATUS = ['green', 'yellow', 'orange', 'red'];

// ---- Vaccination beside the colour: the pass's holder keys 6 (doses) and 7 (last dose, days since 1970);
// a pass without them (issued before passes carried them) has no vaccination data.
const DAY = 86400;
const isoDay = days => new Date(days * DAY * 1000).toISOString().slice(0, 10);
// Today on the rules' clock, as days since 1970.
const today = now => Math.floor((now + Number(document.documentElement.dataset.utcOffset || 0) * 3600) / DAY);

// The place's requirement met? null when it requires none; as the server's VaccinationRequirement::met_by.
function vaccinationAt(required, v, now) {
  const meets = !required ? null : v.doses >= required.min_doses && (!required.min_days_since_last
    || (v.last_dose !== null && today(now) - Date.parse(v.last_dose) / 1000 / DAY >= required.min_days_since_last));
  return { ...v, meets };
}
const vaccinationRefusal = v => (v.meets !== false ? null : v.doses ? 'vaccination_not_met' : 'vaccination_no_data');

// `Đã tiêm 2 mũi · mũi cuối 12/09/2021`, or no data.
function vaccinationLine(v) {
  if (!v || !v.doses || !v.last_dose) return T.no_vaccination_data;
  return fill(T.vaccinated_doses, { doses: v.doses, date: v.last_dose.split('-').reverse().join('/') });
}

// The EU COVID certificate read instead of a pass: its type, country and expiry.
function certificateLine(c) {
  return fill(T.certificate_shown, { kind: T[`certificate_kind_${c.kind}`] || '', country: c.country,
    date: c.expires_at ? localTime(c.expires_at) : '' });
}

let trust = null;       // {keys: {kid: {key, not_after, signed_until}}}
let revoked = new Set();

async function loadTrust(list) {
  const keys = {};
  for (const k of list.keys) {
    try {
      keys[k.kid] = { key: await crypto.subtle.importKey('raw', b64url(k.public_key), { name: 'Ed25519' }, false, ['verify']),
        not_after: k.not_after ? Date.parse(k.not_after) / 1000 : null,
        signed_until: k.signed_until ? Date.parse(k.signed_until) / 1000 : null };
    } catch (_) { return null; } // no Ed25519 in this browser: decide online only
  }
  return { keys };
}

// Verifies a token offline. Returns {invalid: reason} for anything that is not a genuine pass, else the
// decision at this location with the holder shown to staff.
async function verifyLocal(token, place, now) {
  token = token.trim();
  if (token.startsWith('HC1:')) return verifyHc1(token, place, now);
  if (!token.startsWith('KD1:')) return { invalid: 'unknown_prefix' };
  if (!trust) return { unknown: true };
  let cose, prot, claims;
  try {
    cose = cbor(base45(token.slice(4)));
    if (cose.tag !== 18 || !Array.isArray(cose.value) || cose.value.length !== 4) return { invalid: 'bad_cose' };
    if (!(cose.value[1] instanceof Map) || cose.value[1].size !== 0) return { invalid: 'bad_cose' };
    prot = cbor(cose.value[0]);
    claims = cbor(cose.value[2]);
  } catch (e) { return { invalid: e.message.startsWith('bad_') ? e.message : 'bad_cbor' }; }
  if (prot.get(1) !== -8) return { invalid: 'wrong_algorithm' };
  const kidBytes = prot.get(4);
  const kid = kidBytes && btoa(String.fromCharCode(...kidBytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const entry = trust.keys[kid];
  if (!entry) return { invalid: 'unknown_key' };
  const ok = await crypto.subtle.verify({ name: 'Ed25519' }, entry.key, cose.value[3], sigStructure(cose.value[0], cose.value[2]));
  if (!ok) return { invalid: 'bad_signature' };
  const h = claims.get(-65537);
  const passId = hex(claims.get(7) || []);
  const holder = h && { name: h.get(1), birth_year: h.get(2), masked_id: h.get(3), status: STATUS[h.get(4)] };
  const exp = claims.get(4), iat = claims.get(6);
  const vaccination = h && vaccinationAt(place.vaccination,
    { doses: h.get(6) || 0, last_dose: h.has(7) ? isoDay(h.get(7)) : null }, now);
  const refuse = reason => ({ decision: 'refuse', reason, holder, exp, passId, vaccination });
  if (entry.not_after !== null && entry.not_after <= now) return refuse('key_retired');
  // A key that stopped signing cannot have issued a pass dated later: such a pass is forged.
  if (entry.signed_until !== null && iat > entry.signed_until) return refuse('key_retired');
  if (iat > now + SKEW) return refuse('not_yet_valid');
  if (exp + SKEW < now) return refuse('expired');
  if (revoked.has(passId)) return refuse('revoked');
  // The colour decides first; an admitted colour is refused only for a vaccination the place requires.
  if (!place.admits.includes(holder.status)) return refuse(`status_${holder.status}_not_admitted`);
  const unvaccinated = vaccinationRefusal(vaccination);
  if (unvaccinated) return refuse(unvaccinated);
  return { decision: 'admit', reason: 'valid', holder, exp, passId, vaccination };
}

// ---- HC1, the EU Digital COVID Certificate of a visitor with no registry record: zlib through
// DecompressionStream, the CBOR reader above, ES256 (ECDSA P-256) or PS256 (RSA-PSS) through WebCrypto against
// every trusted signer's key. The schema is checked by the server at sync. A certificate this deployment issued
// names a resident, whose colour only the server knows: it is left to the server.
let lastSync = null; // when the trust lists were last fetched (seconds)
let dccKeys = null; // {kid (base64): [{key, alg, not_before, not_after, usages, issued_here}]}

async function loadDccKeys(list) {
  const keys = {};
  for (const k of list.keys) {
    const algo = k.alg === 'ES256' ? { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'RSA-PSS', hash: 'SHA-256' };
    try {
      const key = await crypto.subtle.importKey('spki', b64url(k.public_key), algo, false, ['verify']);
      (keys[k.kid] = keys[k.kid] || []).push({ key, alg: k.alg, usages: k.usages, issued_here: k.issued_here,
        not_before: Date.parse(k.not_before) / 1000, not_after: Date.parse(k.not_after) / 1000 });
    } catch (_) { /* a key this browser cannot import: its certificates are decided online */ }
  }
  return keys;
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// The signer among the keys listed under the kid (every key when the certificate names none) whose signature holds.
async function hc1Signer(cose, prot, unprot) {
  const alg = prot.has(1) ? prot.get(1) : unprot.get(1);
  const kid = prot.has(4) ? prot.get(4) : unprot.get(4);
  const candidates = kid ? dccKeys[btoa(String.fromCharCode(...kid))] || [] : Object.values(dccKeys).flat();
  const params = { [-7]: ['ES256', { name: 'ECDSA', hash: 'SHA-256' }], [-37]: ['PS256', { name: 'RSA-PSS', saltLength: 32 }] }[alg];
  if (!params) return { invalid: 'wrong_algorithm' };
  const tbs = sigStructure(cose[0], cose[2]);
  for (const c of candidates.filter(c => c.alg === params[0])) {
    if (await crypto.subtle.verify(params[1], c.key, cose[3], tbs)) return { signer: c };
  }
  return { invalid: candidates.length ? 'bad_signature' : 'unknown_key' };
}

const DCC_KINDS = { v: 'vaccination', t: 'test', r: 'recovery' };

// Decides an HC1 offline as the server does: genuine-but-unusable first, then the place's policy.
async function verifyHc1(token, place, now) {
  if (!dccKeys || typeof DecompressionStream === 'undefined') return { unknown: true };
  let cose, prot, claims;
  try {
    cose = cbor(await inflate(base45(token.slice(4))));
    if (cose && cose.tag === 61) cose = cose.value;
    if (cose && cose.tag === 18) cose = cose.value;
    if (!Array.isArray(cose) || cose.length !== 4) return { invalid: 'bad_cose' };
    prot = cose[0].length ? cbor(cose[0]) : new Map();
    claims = cbor(cose[2]);
  } catch (e) { return { invalid: 'bad_cbor' }; }
  const unprot = cose[1] instanceof Map ? cose[1] : new Map();
  const { signer, invalid } = await hc1Signer(cose, prot, unprot);
  if (invalid) return { invalid };
  if (signer.issued_here) return { unknown: true };
  const hcert = claims.get(-260), dcc = hcert instanceof Map ? hcert.get(1) : null;
  const kinds = dcc instanceof Map ? Object.keys(DCC_KINDS).filter(k => Array.isArray(dcc.get(k)) && dcc.get(k).length) : [];
  if (kinds.length !== 1) return { invalid: 'bad_claims' };
  const entry = dcc.get(kinds[0])[0], nam = dcc.get('nam') || new Map(), dob = String(dcc.get('dob') || '');
  const part = (plain, icao) => String(nam.get(plain) || nam.get(icao) || '').replace(/</g, ' ').trim();
  const holder = { name: [part('gn', 'gnt'), part('fn', 'fnt')].filter(Boolean).join(' '),
    birth_year: Number(dob.slice(0, 4)) || null };
  const kind = DCC_KINDS[kinds[0]], exp = claims.get(4), iat = claims.get(6);
  const certificate = { kind, country: entry.get('co'), expires_at: exp };
  const vaccination = kind === 'vaccination'
    ? vaccinationAt(place.vaccination, { doses: entry.get('dn'), last_dose: entry.get('dt') }, now) : null;
  const refuse = reason => ({ decision: 'refuse', reason, holder, certificate, vaccination });
  if (iat > now + SKEW) return refuse('dcc_not_yet_valid');
  if (!exp || exp + SKEW < now) return refuse('dcc_expired');
  if (now < signer.not_before || now > signer.not_after) return refuse('dcc_dsc_not_valid');
  if (signer.usages.length && !signer.usages.includes(kind)) return refuse('dcc_wrong_key_usage');
  if (!place.accepts_dcc) return refuse('dcc_not_accepted');
  if (!vaccination && place.vaccination) return refuse('dcc_not_vaccination');
  const unmet = vaccination && vaccinationRefusal(vaccination);
  if (unmet) return refuse(unmet);
  return { decision: 'admit', reason: 'valid', holder, certificate, vaccination };
}

// ---- Caches: the trust list and the revocation delta since the stored cursor.
async function refreshCaches() {
  const list = await fetch('/api/v1/trust-list', { credentials: 'same-origin' });
  if (list.ok) { const json = await list.json(); await kvPut('trust', json); trust = await loadTrust(json); }
  const signers = await fetch('/api/v1/dcc/verifier-keys', { credentials: 'same-origin' });
  if (signers.ok) { const json = await signers.json(); await kvPut('dcc_keys', json); dccKeys = await loadDccKeys(json); }
  // Both lists are fresh: staff see when, so that they know how old an offline decision's lists are.
  if (list.ok && signers.ok) { lastSync = Date.now() / 1000; await kvPut('last_sync', lastSync); }
  let cursor = (await kvGet('cursor')) || 0;
  for (;;) {
    const res = await fetch(`/api/v1/revocations?since=${cursor}`, { credentials: 'same-origin' });
    if (!res.ok) break;
    const page = await res.json();
    page.pass_ids.forEach(id => revoked.add(id));
    if (page.cursor === cursor) break;
    cursor = page.cursor;
    await kvPut('revoked', [...revoked]);
    await kvPut('cursor', cursor);
  }
}

async function loadCaches() {
  const list = await kvGet('trust');
  if (list) trust = await loadTrust(list);
  const signers = await kvGet('dcc_keys');
  if (signers) dccKeys = await loadDccKeys(signers);
  lastSync = (await kvGet('last_sync')) || null;
  revoked = new Set((await kvGet('revoked')) || []);
}

// ---- The screen.
const $ = id => document.getElementById(id);
const place = () => cfg.locations.find(p => String(p.id) === $('location').value);
const direction = () => document.querySelector('[name=direction]:checked').value;
let shown = null; // the scan on screen: its idempotency key and what is shown
let scanNo = 0;   // the newest scan; an older one's answer, arriving late, never replaces it
// How long a result stays on screen, so that the next person never sees the previous one's.
let clearAfterMs = 20000;
let clearTimer = null;

function clearLater() {
  clearTimeout(clearTimer);
  clearTimer = setTimeout(clearResult, clearAfterMs);
}

function clearResult() {
  clearTimeout(clearTimer);
  shown = null;
  const box = $('decision');
  box.hidden = true;
  box.className = 'card';
  box.replaceChildren();
  delete box.dataset.decision;
}

// A new scan has begun: the previous result goes at once, and the box says the scan is being checked.
function checking() {
  shown = null;
  const box = $('decision');
  box.hidden = false;
  box.className = 'card';
  const p = document.createElement('strong');
  p.textContent = T.checking;
  box.replaceChildren(p);
  box.dataset.decision = 'checking';
  clearLater();
  return ++scanNo;
}

// The holder as staff compare them with the card or document in hand: name, birth year, masked id.
function holderLine(h) {
  return [h.name, h.birth_year && `${T.born} ${h.birth_year}`, h.masked_id].filter(Boolean).join(' · ');
}

// Shows a decision; `refresh` (the server's answer to a scan on screen) keeps the time it stays.
function show(key, d, refresh) {
  shown = { key, d };
  const box = $('decision');
  box.hidden = false;
  box.className = `card ${d.decision === 'admit' ? 'green' : 'red'}`;
  // T and label(): the catalogue's texts, from app.js. A reason without a text shows nothing, never its code.
  const lines = [d.decision === 'admit' ? T.admit : T.refuse, d.note || label('reason', d.reason)];
  if (d.holder) lines.push(holderLine(d.holder));
  const status = d.status || (d.holder && d.holder.status);
  if (status) lines.push(label('status', status));
  // The vaccination state, its own line beside the colour.
  if (d.vaccination) lines.push(vaccinationLine(d.vaccination));
  if (d.certificate) lines.push(certificateLine(d.certificate));
  if (d.exp) lines.push(`${T.valid_until} ${localTime(d.exp)}`); // localTime: app.js, loaded first
  box.replaceChildren(...lines.filter(Boolean).map((text, i) => { const p = document.createElement(i ? 'p' : 'strong'); p.textContent = text; return p; }));
  box.dataset.decision = d.decision;
  if (!refresh) clearLater();
}

async function renderQueue() {
  const pending = await idb('queue', 'readonly', s => s.count());
  $('queue').textContent = [`${pending} ${T.pending}`, lastSync && fill(T.synced_at, { time: localTime(lastSync) })]
    .filter(Boolean).join(' · ');
  $('queue').dataset.pending = pending;
  $('queue').dataset.synced = lastSync ? 'yes' : 'no';
  const conflicts = await idb('conflicts', 'readonly', s => s.getAll());
  $('conflicts').replaceChildren(...conflicts.map(c => {
    const li = document.createElement('li');
    const decided = x => (x === 'admit' ? T.admit : x === 'refuse' ? T.refuse : x || '');
    li.textContent = c.refused
      ? `${T[REFUSED[c.refused]]} ${localTime(c.scanned_at)} ${decided(c.local_decision)}${c.error ? ` (${c.error})` : ''}`
      : `${T.conflict}: ${localTime(c.scanned_at)} ${decided(c.local_decision)} → ${decided(c.server_decision)}`;
    li.dataset.status = c.refused || 'differs';
    return li;
  }));
  $('net').textContent = navigator.onLine ? T.online : T.offline;
}

async function onToken(token) {
  if (!token.trim()) return;
  const no = checking();
  const at = place();
  const d = await verifyLocal(token, at, Date.now() / 1000);
  if (d.invalid) {
    // Not a pass of this system; an unknown key may only mean the scanner has not synced yet.
    const next = token.trim().startsWith('HC1:') ? T.reason_invalid_certificate
      : d.invalid === 'unknown_key' ? T.reason_unknown_key : T.reason_forged;
    if (no === scanNo) show(null, { decision: 'refuse', note: `${T.invalid}. ${next}` });
    return;
  }
  const item = { idempotency_key: newKey(), location_id: at.id, token: token.trim(), direction: direction(),
    scanned_at: new Date().toISOString(), local_decision: d.decision || null, offline: !navigator.onLine };
  await idb('queue', 'readwrite', s => s.put(item));
  if (no === scanNo) {
    // Without an offline check the box keeps saying "checking" until the server's answer replaces it.
    if (d.unknown) { $('net').textContent = T.no_offline_verify; shown = { key: item.idempotency_key, d: {} }; }
    else show(item.idempotency_key, d);
  }
  await renderQueue();
  sync();
}

// Scans per batch request: the server takes up to 500; 100 keep each answer quick on a slow network.
const CHUNK = 100;
// What the staff read of a scan the server refused for good (kept aside, never sent again), by its status.
const REFUSED = { 409: 'sync_key_reused', 422: 'sync_invalid', 403: 'sync_forbidden' };

let syncing = false;
// Sends the queue, oldest first, in batches; each scan is settled by its own answer, and whatever got no answer
// (the network went, the server failed) stays queued for the next sync.
async function sync() {
  if (syncing || !navigator.onLine) return;
  syncing = true;
  try {
    await refreshCaches().catch(() => {});
    const items = await idb('queue', 'readonly', s => s.getAll());
    items.sort((a, b) => a.scanned_at.localeCompare(b.scanned_at));
    for (let i = 0; i < items.length; i += CHUNK) {
      const chunk = items.slice(i, i + CHUNK);
      const scans = chunk.map(item => ({ location_id: item.location_id, token: item.token, direction: item.direction,
        scanned_at: item.scanned_at, idempotency_key: item.idempotency_key }));
      let res;
      try { res = await api('POST', '/api/v1/scans/batch', { scans }); } catch (_) {
        // The network went: these were decided offline.
        for (const item of chunk) await idb('queue', 'readwrite', s => s.put({ ...item, offline: true }));
        break;
      }
      if (!res.ok) break; // signed out, the server failing: try again later; nothing is dropped
      const results = (res.data && res.data.results) || [];
      for (const [k, item] of chunk.entries()) await settle(item, results[k]);
    }
  } finally {
    syncing = false;
    await renderQueue();
  }
}

// One scan's answer from a batch: stored (201, or 200 for one stored before) leaves the queue, flagged when the
// server decided otherwise than the scanner did offline; refused for good (409, 422, 403) is kept aside for the
// staff; anything else stays queued.
async function settle(item, r) {
  if (!r || r.idempotency_key !== item.idempotency_key) return;
  const onScreen = shown && shown.key === item.idempotency_key;
  if (REFUSED[r.status]) {
    await idb('conflicts', 'readwrite', s => s.put({ ...item, refused: r.status, error: r.message }));
    if (onScreen) {
      const note = item.token.startsWith('HC1:') ? T.reason_invalid_certificate : T[REFUSED[r.status]];
      show(item.idempotency_key, { decision: 'refuse', note }, true);
    }
  } else if (r.status === 200 || r.status === 201) {
    if (item.offline && item.local_decision !== r.decision) {
      // Decided offline, and the server knew better (e.g. revoked meanwhile): flag it for the staff.
      await idb('conflicts', 'readwrite', s => s.put({ ...item, server_decision: r.decision, server_reason: r.reason }));
    }
    // The server's decision (current status, revocations) replaces the scanner's; the holder shown stays, and
    // the colour read from the pass too unless the server decided otherwise.
    if (onScreen) {
      const same = shown.d.decision === r.decision;
      show(item.idempotency_key, { ...shown.d, decision: r.decision, reason: r.reason, note: undefined,
        status: same ? shown.d.status : undefined }, shown.d.decision !== undefined);
    }
  } else return;
  await idb('queue', 'readwrite', s => s.delete(item.idempotency_key));
}

// ---- Camera: the shared QR reader of static/camera.js.
qrCamera({
  video: $('camera'), canvas: $('frame'), start: $('camera-start'), stop: $('camera-stop'),
  onText: onToken, onNoCamera: () => { $('net').textContent = T.no_camera; },
});
$('manual').addEventListener('submit', e => {
  e.preventDefault();
  const t = $('token');
  onToken(t.value);
  t.value = '';
});
$('lookup').addEventListener('submit', async e => {
  e.preventDefault();
  const form = e.target;
  const no = checking();
  const failed = text => { if (no === scanNo) clearResult(); say(form, text); };
  if (!navigator.onLine) { failed(T.needs_network); return; }
  const body = { citizen_id: $('citizen').value.trim(), identity_checked: $('id-checked').checked,
    direction: direction(), idempotency_key: newKey() };
  const res = await api('POST', `/api/v1/locations/${place().id}/scans`, body).catch(() => null);
  if (!res) { failed(T.needs_network); return; }
  if (no !== scanNo) return; // a newer scan is on screen
  if (!res.ok) { clearResult(); showErrors(form, res.data); return; }
  alertOf(form).hidden = true;
  // The registry's name and birth year, to compare with the document in hand.
  const d = res.data;
  show(null, { ...d, holder: d.full_name ? { name: d.full_name, birth_year: d.birth_year } : undefined });
});

// The device remembers where it stands and which way people pass, for the next time the page opens.
const SAVED = { location: 'kiemdich.scanner.location', direction: 'kiemdich.scanner.direction' };
function restorePlace() {
  try {
    const at = localStorage.getItem(SAVED.location);
    if (at && cfg.locations.some(p => String(p.id) === at)) $('location').value = at;
    const way = document.querySelector(`[name=direction][value="${CSS.escape(localStorage.getItem(SAVED.direction) || '')}"]`);
    if (way) way.checked = true;
  } catch (_) { /* storage unavailable: the first location, direction in */ }
}
const remember = (k, v) => { try { localStorage.setItem(k, v); } catch (_) { /* storage unavailable */ } };
$('location').addEventListener('change', e => { remember(SAVED.location, e.target.value); clearResult(); });
document.querySelectorAll('[name=direction]').forEach(r => r.addEventListener('change', e => remember(SAVED.direction, e.target.value)));
restorePlace();
window.addEventListener('online', sync);
window.addEventListener('offline', renderQueue);
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});

loadCaches().then(renderQueue).then(sync);
setInterval(sync, 30000);
