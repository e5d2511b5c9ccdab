// kiemdich pages: forms marked data-api post JSON to the API; the answer or the errors appear in the form's
// alert, and data-then says what happens on success. No framework, no build step.
'use strict';

// "people.0.full_name" -> {people: [{full_name: …}]}; numeric segments make arrays.
function setPath(obj, path, value, push) {
  const keys = path.split('.');
  let o = obj;
  keys.forEach((k, i) => {
    const last = i === keys.length - 1;
    if (last) {
      if (push) (o[k] = o[k] || []).push(value); else o[k] = value;
    } else {
      if (o[k] === undefined) o[k] = /^\d+$/.test(keys[i + 1]) ? [] : {};
      o = o[k];
    }
  });
}

function formJson(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled || 'notSent' in el.dataset) continue;
    if (el.type === 'checkbox') {
      if ('bool' in el.dataset) setPath(out, el.name, el.checked);
      else if (el.checked) setPath(out, el.name, el.value, true);
      continue;
    }
    if (el.type === 'radio' && !el.checked) continue;
    let v = el.value.trim();
    if (v === '') continue;
    // A decimal comma, as Vietnamese write numbers (9,603), is a decimal point.
    if ('num' in el.dataset) v = Number(v.replace(',', '.'));
    // A picked value that is an object (a place's vaccination requirement), as the server wrote it.
    if ('json' in el.dataset) v = JSON.parse(v);
    setPath(out, el.name, v);
  }
  if (out.people) out.people = out.people.filter(Boolean);
  return out;
}

// The catalogue's texts for scripts, in the page's language (labels by code, reasons, messages).
const T = JSON.parse((document.getElementById('kd-text') || { textContent: '{}' }).textContent);
// "{id}" placeholders filled from an object.
const fill = (text, args) => text.replace(/\{(\w+)\}/g, (m, k) => (k in args ? args[k] : m));
const label = (prefix, code) => T[`${prefix}_${code}`] || '';

async function api(method, url, body) {
  // Answers (messages, field problems) come in the page's language.
  const init = { method, credentials: 'same-origin', headers: { 'Accept-Language': document.documentElement.lang } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  let data = null;
  try { data = await res.json(); } catch (_) { /* empty answer */ }
  return { ok: res.ok, status: res.status, data };
}

function alertOf(form) { return form.querySelector('.alert'); }

function say(form, text, ok) {
  const a = alertOf(form);
  if (!a) return;
  a.hidden = false;
  a.classList.toggle('ok', !!ok);
  a.textContent = text;
}

// Marks each input the API named and writes its problem under it, once; problems with no input of their
// own are listed in the form's alert, without their internal path.
function showErrors(form, data) {
  form.querySelectorAll('[aria-invalid]').forEach(el => el.removeAttribute('aria-invalid'));
  form.querySelectorAll('.field-error').forEach(el => el.remove());
  const fields = (data && data.fields) || [];
  const a = alertOf(form);
  if (!a) return;
  a.hidden = false;
  a.classList.remove('ok');
  a.textContent = (data && data.message) || T.cannot_reach_server;
  const loose = document.createElement('ul');
  fields.forEach((f, i) => {
    const name = f.field.replace(/\[(\d+)\]/g, '.$1');
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!input) { loose.appendChild(el('li', {}, f.message)); return; }
    const id = `${(form.dataset.api || form.dataset.upload || "form").replace(/\W/g, '')}-err-${i}`;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', id);
    (input.closest('label') || input).insertAdjacentElement('afterend', el('p', { class: 'field-error', id }, f.message));
  });
  if (loose.children.length) a.appendChild(loose);
  a.setAttribute('tabindex', '-1');
  a.focus();
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

// An idempotency key ordered by time (a UUID of version 7: the milliseconds, then random bits), so that the keys
// one device sends land next to each other in the server's index of them, where random ones (randomUUID) would
// each dirty a page of their own in every group the server writes.
function newKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) { b[i] = ms % 256; ms = Math.floor(ms / 256); }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
  return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join('-');
}

// A form marked data-idempotent sent again unchanged (its answer was lost, or the button pressed twice) carries
// the same idempotency key, so the server answers it instead of storing it twice; a changed form is a new request.
function withKey(form, body) {
  if (!('idempotent' in form.dataset)) return body;
  const sent = JSON.stringify(body);
  if (form.dataset.sent !== sent) {
    form.dataset.sent = sent;
    form.dataset.key = newKey();
  }
  return { ...body, idempotency_key: form.dataset.key };
}

// A time (RFC 3339, or Unix seconds) as people in Vietnam read it: `14:37 29/11/2026`, on the rules' clock.
function localTime(t) {
  const ms = typeof t === 'number' ? t * 1000 : Date.parse(t);
  if (Number.isNaN(ms)) return '';
  const d = new Date(ms + Number(document.documentElement.dataset.utcOffset || 0) * 3600e3);
  const two = n => String(n).padStart(2, '0');
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())} ${two(d.getUTCDate())}/${two(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;
}

// What an officer of the registry commune sees for a person whose details differ: what was entered beside what
// the registry holds, and, once they have checked the identity document, the action that issues the pass on the
// registry's details (the form is sent again with that person's document box ticked).
function compareWithRegistry(form, p, i) {
  const shown = (field, v) => (field === 'sex' ? label('sex', v === 'M' ? 'male' : 'female') : field === 'date_of_birth' ? v.split('-').reverse().join('/') : v);
  const rows = ['full_name', 'date_of_birth', 'sex'].map(f => {
    const differs = (p.mismatched_fields || []).includes(f);
    return el('tr', differs ? { class: 'differs' } : {}, el('th', { scope: 'row' }, label('field', f) || f),
      el('td', {}, shown(f, p.entered[f])), el('td', {}, shown(f, p.registry[f])));
  });
  const table = el('table', {},
    el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', {}, T.entered), el('th', {}, T.in_registry))),
    el('tbody', {}, ...rows));
  const box = form.querySelector(`[name="people.${i}.identity_document_checked"]`);
  const issue = el('button', { type: 'button', class: 'secondary' }, T.document_checked_issue);
  issue.addEventListener('click', () => {
    if (!box) return;
    box.checked = true;
    form.requestSubmit();
  });
  return box ? [table, issue] : [table];
}

// What happens after a successful answer, by the form's data-then.
const THEN = {
  reload: () => location.reload(),
  otp(form, data) {
    say(form, data.message, true);
    const next = document.getElementById('code-step');
    next.querySelector('[name=challenge_id]').value = data.challenge_id;
    next.hidden = false;
    next.querySelector('[name=code]').focus();
  },
  declared(form, data) {
    say(form, fill(T.declaration_received, { id: data.declaration_id }), true);
    const out = document.getElementById('result');
    out.replaceChildren();
    data.people.forEach((p, i) => {
      const card = el('div', { class: 'card' });
      const who = p.full_name || p.citizen_id || '';
      card.append(p.status
        ? el('p', {}, `${who} · `, el('span', { class: `status ${p.status}` }, label('status', p.status)), ` · ${label('identity', p.identity_check)}`)
        : el('p', {}, `${who} · ${label('identity', p.identity_check)}`));
      if (p.message) card.append(el('p', {}, p.message));
      if (p.mismatched_fields && p.mismatched_fields.length) {
        card.append(el('p', {}, T.differs_from_registry + p.mismatched_fields.map(f => label('field', f) || f).join(', ')));
      }
      if (p.registry && !p.pass) card.append(...compareWithRegistry(form, p, i));
      if (p.pass) {
        const base = `/api/v1/passes/${p.pass.id}`;
        card.append(
          el('div', { class: 'qr', 'data-token': p.pass.token },
            el('img', { src: `${base}/qr.svg`, alt: T.pass_qr_alt, width: '320', height: '320' })),
          el('p', {}, `${T.valid_until} ${localTime(p.pass.expires_at)}`),
          el('a', { class: 'button', href: `${base}/qr.png`, download: `kiemdich-${p.pass.id}.png` }, T.download_qr),
          el('a', { class: 'button secondary', href: `/passes/${p.pass.id}/card`, 'data-card': '' }, T.print_card));
      } else {
        card.append(el('p', {}, T.no_pass_yet));
      }
      out.append(card);
    });
    out.scrollIntoView();
  },
  confirmed(form, data) {
    const passes = (data.confirmed || []).reduce((n, c) => n + (c.revoked_passes || []).length, 0);
    say(form, fill(T.contacts_confirmed, { n: (data.confirmed || []).length, passes }), true);
    form.querySelectorAll('[name=citizen_ids]:checked').forEach(box => { box.checked = false; box.disabled = true; });
  },
  told(form, data) {
    say(form, fill(T.people_told, { n: data.people_told }), true);
  },
  published(form, data) {
    say(form, fill(T.places_published, { n: data.places, until: localTime(data.expires_at) }), true);
  },
  // A key upload code, large enough to read out over the phone, with its expiry in Vietnam time.
  proximityCode(form, data) {
    say(form, fill(T.proximity_code_issued, { until: localTime(data.expires_at) }), true);
    const out = form.querySelector('.big-code');
    out.textContent = data.code;
    out.hidden = false;
  },
  withdrawn(form, data) {
    say(form, fill(T.places_withdrawn, { n: data.places }), true);
  },
  saved: () => location.reload(),
  home: () => { location.href = '/'; },
  case(form, data) {
    location.href = `/health?case=${data.id}`;
  },
  token(form, data) {
    say(form, T.device_token_once + data.token, true);
  },
  // A new scanning device's token, shown once as text and as the QR its phone reads to enrol (an SVG the
  // server drew, put in as a node, never as HTML).
  device(form, data) {
    say(form, T.device_token_once + data.token, true);
    form.querySelectorAll('.enrol').forEach(old => old.remove());
    if (!data.enrol_qr_svg) return;
    const svg = new DOMParser().parseFromString(data.enrol_qr_svg, 'image/svg+xml').documentElement;
    const qr = document.importNode(svg, true);
    qr.setAttribute('role', 'img');
    qr.setAttribute('aria-label', form.dataset.qrAlt);
    qr.style.maxWidth = '20rem';
    qr.style.height = 'auto';
    alertOf(form).after(el('figure', { class: 'qr enrol' }, qr, el('figcaption', {}, form.dataset.qrHelp)));
  },
  done(form) {
    say(form, form.dataset.done, true);
    form.reset();
  },
  // A daily health update: an urgent one says so at once (the station was told; call 115 if breathing is hard).
  update(form, data) {
    say(form, data.urgent ? form.dataset.urgent : form.dataset.done, !data.urgent);
    form.reset();
  },
  checkin(form, data) {
    const ok = data.decision === 'admit';
    say(form, `${data.location}: ${ok ? T.recorded : T.refused}. ${label('reason', data.reason)}`, ok);
    form.querySelector('[data-fresh-key]').value = newKey();
  },
};

// Staff forms: a citizen id typed in fills the person's empty fields from the registry (a read audited like
// any other), so an officer copying a paper form types only what differs.
document.addEventListener('change', async e => {
  const input = e.target;
  if (!input.matches('[data-lookup]') || !/^\d{12}$/.test(input.value.trim())) return;
  const res = await api('GET', `/api/v1/residents/${input.value.trim()}`);
  if (!res.ok) return;
  const prefix = input.name.replace(/citizen_id$/, '');
  const put = (field, value) => {
    const target = input.form.querySelector(`[name="${prefix}${field}"]`);
    if (target && !target.value && value) target.value = value;
  };
  put('full_name', res.data.full_name);
  put('date_of_birth', res.data.date_of_birth);
  put('sex', res.data.sex);
  put('commune_code', res.data.commune_code);
  put('street', res.data.address);
  put('phone', res.data.phone);
  const note = el('p', { class: 'muted filled' }, T.filled_from_registry);
  input.closest('fieldset').querySelectorAll('.filled').forEach(n => n.remove());
  input.closest('label').insertAdjacentElement('afterend', note);
});

document.addEventListener('submit', async e => {
  const form = e.target;
  if (!form.dataset.api) return;
  e.preventDefault();
  if (form.dataset.confirmCount) {
    // Say how many people the action touches before doing it.
    const n = form.querySelectorAll(`[name="${form.dataset.confirmCount}"]:checked`).length;
    if (!n) { showErrors(form, { message: T.nothing_selected }); return; }
    if (!confirm(fill(T.confirm_contacts, { n }))) return;
  }
  if (form.dataset.confirm && !confirm(form.dataset.confirm)) return;
  const bad = [...form.querySelectorAll('[data-num]')]
    .filter(el => el.value.trim() !== '' && Number.isNaN(Number(el.value.trim().replace(',', '.'))));
  if (bad.length) {
    showErrors(form, { message: T.not_a_number, fields: bad.map(el => ({ field: el.name, message: T.not_a_number })) });
    return;
  }
  const button = form.querySelector('button:not([type=button])');
  if (button) button.disabled = true;
  try {
    // A path parameter taken from a field (a unit picked in the form): `{code}` in data-api.
    let url = form.dataset.api;
    if (form.dataset.pathFrom) {
      const field = form.elements[form.dataset.pathFrom];
      url = url.replace(`{${form.dataset.pathFrom}}`, encodeURIComponent(field ? field.value : ''));
    }
    const res = await api(form.dataset.method || 'POST', url, withKey(form, formJson(form)));
    if (res.ok) THEN[form.dataset.then](form, res.data || {});
    else showErrors(form, res.data);
  } catch (err) {
    showErrors(form, { message: T.cannot_reach_server });
  } finally {
    if (button) button.disabled = false;
  }
});

// Uploads a file as the body of a PUT (the signed PDF of a decision): the form's data-upload is the address.
document.addEventListener('submit', async e => {
  const form = e.target;
  if (!form.dataset.upload) return;
  e.preventDefault();
  const file = form.querySelector('input[type=file]').files[0];
  if (!file) { showErrors(form, { message: T.nothing_selected }); return; }
  const headers = { 'Content-Type': 'application/pdf', 'Accept-Language': document.documentElement.lang };
  if (/^[\x20-\x7e]+$/.test(file.name)) headers['X-File-Name'] = file.name;
  try {
    const res = await fetch(form.dataset.upload, { method: 'PUT', credentials: 'same-origin', headers, body: file });
    if (res.ok) location.reload();
    else showErrors(form, await res.json().catch(() => null));
  } catch (err) {
    showErrors(form, { message: T.cannot_reach_server });
  }
});

// Saves a pass as a PNG with the holder's name, the colour and the expiry drawn around the QR, so that the
// picture alone, shown from a phone's gallery, says whose pass it is and until when. Without a canvas the
// link's plain QR image downloads instead.
async function savePass(link, pass) {
  const img = pass && pass.querySelector('img');
  if (!img) { location.href = link.href; return; }
  const colour = getComputedStyle(pass).borderTopColor;
  const w = 600, qr = 480, h = 800;
  const canvas = el('canvas', { width: String(w), height: String(h) });
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = colour; ctx.fillRect(0, 0, w, h);
  ctx.fillStyle = '#fff'; ctx.fillRect(24, 24, w - 48, h - 48);
  const source = new Image();
  source.src = img.src;
  await source.decode();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(source, (w - qr) / 2, 150, qr, qr);
  ctx.fillStyle = '#111'; ctx.textAlign = 'center';
  ctx.font = 'bold 34px system-ui, sans-serif';
  ctx.fillText(pass.dataset.passName, w / 2, 80, w - 80);
  ctx.font = 'bold 30px system-ui, sans-serif';
  ctx.fillText(pass.dataset.passStatus, w / 2, 125, w - 80);
  ctx.font = '26px system-ui, sans-serif';
  ctx.fillText(pass.dataset.passUntil, w / 2, 700, w - 80);
  canvas.toBlob(blob => {
    const a = el('a', { href: URL.createObjectURL(blob), download: link.getAttribute('download') });
    document.body.append(a); a.click(); a.remove();
  }, 'image/png');
}

document.addEventListener('click', async e => {
  const t = e.target;
  if (t.matches('[data-logout]')) {
    await api('POST', '/api/v1/auth/logout');
    location.href = location.pathname;
  } else if (t.matches('[data-locate]')) {
    // Fills the form's coordinates from the device; only offered where the browser allows it (https).
    const form = t.form;
    if (!navigator.geolocation) { say(form, T.no_location); return; }
    navigator.geolocation.getCurrentPosition(
      p => {
        form.querySelector('[name=lat]').value = p.coords.latitude.toFixed(5).replace('.', ',');
        form.querySelector('[name=lon]').value = p.coords.longitude.toFixed(5).replace('.', ',');
      },
      () => say(form, T.no_location),
      { enableHighAccuracy: true, timeout: 10000 });
  } else if (t.matches('[data-select-all]')) {
    t.form.querySelectorAll('[name=citizen_ids]:not(:disabled)').forEach(box => { box.checked = t.checked; });
  } else if (t.matches('[data-save-pass]')) {
    e.preventDefault();
    savePass(t, t.parentElement.querySelector('.pass'));
  } else if (t.matches('[data-print]')) {
    window.print();
  } else if (t.matches('[data-add-person]')) {
    const list = document.getElementById('people');
    const i = String(list.children.length);
    const html = document.getElementById('person-template').innerHTML.replaceAll('__i__', i);
    list.insertAdjacentHTML('beforeend', html);
    list.lastElementChild.querySelector('input').focus();
  }
});

document.querySelectorAll('[data-fresh-key]').forEach(k => { k.value = newKey(); });

// Long pickers of places get a search box: typing part of a name, with or without diacritics, leaves only
// the matching places (the chosen one stays). Without JavaScript the list still works, grouped by district.
const folded = t => t.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();
function addFilter(select) {
  const box = el('input', { type: 'search', class: 'filter', 'aria-label': T.find_place, placeholder: T.find_place });
  box.addEventListener('input', () => {
    const q = folded(box.value.trim());
    for (const o of select.options) o.hidden = q !== '' && !o.selected && o.value !== '' && !folded(o.textContent).includes(q);
    for (const g of select.querySelectorAll('optgroup')) g.hidden = [...g.children].every(o => o.hidden);
  });
  select.insertAdjacentElement('beforebegin', box);
}
document.querySelectorAll('select[data-filter]').forEach(addFilter);
document.addEventListener('click', e => {
  if (!e.target.matches('[data-add-person]')) return;
  // A person added from the template brings its own pickers.
  document.querySelectorAll('#people select[data-filter]').forEach(s => {
    if (!s.previousElementSibling || !s.previousElementSibling.matches('.filter')) addFilter(s);
  });
});

// A scanner phone enrolled by the QR of the admin page opens /scan#device=TOKEN: the token (in the fragment,
// which is never sent to a server) signs this browser in, leaves the address bar and the history, and the
// page reloads signed in.
if (location.pathname === '/scan' && location.hash.startsWith('#device=')) {
  const token = decodeURIComponent(location.hash.slice('#device='.length));
  history.replaceState(null, '', location.pathname + location.search);
  const form = document.querySelector('form[data-api="/api/v1/auth/device"]');
  api('POST', '/api/v1/auth/device', { token }).then(res => {
    if (res.ok) location.reload();
    else if (form) showErrors(form, res.data);
  }, () => { if (form) showErrors(form, { message: T.cannot_reach_server }); });
}
