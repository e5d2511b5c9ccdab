// The epidemiological map (staff `/map`, public `/public`): communes coloured by risk level from the server's
// GeoJSON, with no tile server; case counts per commune and clustered places for staff; exposure places for the
// public. Runs after app.js (T, fill, el, localTime) and Leaflet. Everything shown is also in the page's tables.
'use strict';

(function () {
  const box = document.getElementById('map');
  if (!box || !window.L) return;
  const COLOURS = { 1: '#1b873f', 2: '#f2c200', 3: '#b35300', 4: '#b3261e' };
  const NONE = '#c9c9c9';
  const get = async url => {
    const res = await fetch(url, { credentials: 'same-origin', headers: { 'Accept-Language': document.documentElement.lang } });
    if (!res.ok) throw new Error(String(res.status));
    return res.json();
  };
  const map = L.map(box, { zoomSnap: 0.5, preferCanvas: true });
  map.attributionControl.setPrefix('Leaflet');
  if (box.dataset.attribution) map.attributionControl.addAttribution(box.dataset.attribution);
  // The deployment's own tiles under the communes, when it has them (same origin: the content policy allows no other).
  if (box.dataset.basemap) {
    const attribution = el('span', {}, box.dataset.basemapAttribution || '').innerHTML;
    if ('basemapPmtiles' in box.dataset && window.pmtiles) {
      pmtiles.leafletRasterLayer(new pmtiles.PMTiles(box.dataset.basemap), { attribution }).addTo(map);
    } else if (!('basemapPmtiles' in box.dataset)) {
      L.tileLayer(box.dataset.basemap, { maxZoom: 19, attribution }).addTo(map);
    }
  }
  // Vietnam, until the communes' own bounds are known.
  map.setView([16, 106], 5);

  let mode = 'official';
  const levelOf = p => (mode === 'computed' ? p.level_computed : p.level);
  const levelText = level => (level ? T[`map_level${level}`] : T.map_level_none);
  const style = f => ({ color: '#333', weight: 1, opacity: 0.8, fillOpacity: 0.6, fillColor: COLOURS[levelOf(f.properties)] || NONE });
  const byCode = new Map();

  function communePopup(p) {
    const lines = [el('strong', {}, p.name), el('br'), levelText(p.level)];
    if (p.decision) lines.push(el('br'), fill(T.map_decision, { number: p.decision }));
    if ('staff' in box.dataset) lines.push(el('br'), fill(T.map_computed, { level: levelText(p.level_computed) }));
    lines.push(el('br'), fill(T.map_cases_7d, { n: p.cases_7d ?? 0 }));
    const out = el('div', {}, ...lines);
    if (box.dataset.history) {
      const more = el('div', {});
      out.append(more);
      get(`${box.dataset.history}?unit=${encodeURIComponent(p.code)}`)
        .then(h => historyList(more, h))
        .catch(() => more.replaceChildren(T.map_history_unavailable));
    }
    return out;
  }

  function historyList(target, history) {
    const items = (history.history || []).slice(0, 5).map(d =>
      el('li', {}, `${d.effective_from.split('-').reverse().join('/')} · ${levelText(d.level)} · ${d.decision}`));
    target.replaceChildren(el('p', {}, T.map_history), items.length ? el('ul', {}, ...items) : T.map_no_history);
  }

  const communes = L.geoJSON(null, {
    style,
    onEachFeature(f, layer) {
      byCode.set(f.properties.code, layer);
      layer.bindPopup(() => communePopup(f.properties));
      layer.bindTooltip(f.properties.name, { sticky: true });
    },
  }).addTo(map);

  // District borders drawn bold over the communes; not clickable.
  const districts = L.geoJSON(null, { style: { color: '#111', weight: 2.5, fill: false }, interactive: false }).addTo(map);

  // Where the boundaries come from, as the map's attribution (text, never HTML); demo communes are illustrative.
  function credit(features) {
    const sources = new Set(features.map(f => f.properties.boundary_source).filter(Boolean));
    let illustrative = false;
    sources.forEach(src => {
      if (src.includes('illustrative')) illustrative = true;
      else map.attributionControl.addAttribution(el('span', {}, src).innerHTML);
    });
    if (illustrative) {
      map.attributionControl.addAttribution(T.map_illustrative_credit);
      box.after(el('p', { class: 'muted' }, T.map_illustrative));
    }
  }

  async function loadCommunes() {
    const [communeData, districtData] = await Promise.all([
      get(box.dataset.communes).catch(() => null),
      box.dataset.districts ? get(box.dataset.districts).catch(() => null) : null,
    ]);
    if (communeData) communes.addData(communeData);
    if (districtData) districts.addData(districtData);
    credit([...(communeData?.features || []), ...(districtData?.features || [])]);
    if (communes.getLayers().length) map.fitBounds(communes.getBounds());
    else box.after(el('p', { class: 'muted' }, T.map_no_geometry));
    refresh();
  }

  document.querySelectorAll('input[name=map-mode]').forEach(r => r.addEventListener('change', () => {
    mode = r.value;
    communes.setStyle(style);
  }));

  // Staff: cases per commune at the communes' centres, and places linked to cases, clustered by the server.
  const counts = L.layerGroup().addTo(map);
  const marks = L.layerGroup().addTo(map);
  const filter = document.getElementById('map-filter');
  const query = () => (filter ? new URLSearchParams(new FormData(filter)).toString() : '');

  async function refresh() {
    if (box.dataset.cases) {
      const rows = await get(`${box.dataset.cases}?${query()}`).catch(() => []);
      counts.clearLayers();
      rows.filter(r => r.cases > 0).forEach(r => {
        const layer = byCode.get(r.code);
        if (!layer) return;
        const icon = L.divIcon({ className: 'map-count', html: String(r.cases), iconSize: [30, 22] });
        L.marker(layer.getBounds().getCenter(), { icon, keyboard: false, title: `${r.name}: ${fill(T.map_cases, { n: r.cases })}` }).addTo(counts);
      });
    }
    if (box.dataset.marks) await refreshMarks();
    if (box.dataset.places) await exposurePlaces();
  }

  async function refreshMarks() {
    const b = map.getBounds();
    const view = `west=${b.getWest()}&south=${b.getSouth()}&east=${b.getEast()}&north=${b.getNorth()}&zoom=${Math.round(map.getZoom())}`;
    const found = await get(`${box.dataset.marks}?${view}&${query()}`).catch(() => []);
    marks.clearLayers();
    found.forEach(m => {
      const text = m.place ? `${m.place.name}: ${fill(T.map_cases, { n: m.cases })}` : fill(T.map_places, { n: m.places, cases: m.cases });
      L.circleMarker([m.lat, m.lon], { radius: 6 + Math.min(14, Math.sqrt(m.places) * 3), color: '#0b3d6b', weight: 2, fillColor: '#fff', fillOpacity: 0.9 })
        .bindPopup(text).bindTooltip(text).addTo(marks);
    });
  }

  async function exposurePlaces() {
    const places = await get(box.dataset.places).catch(() => []);
    places.forEach(p => {
      const text = fill(T.map_exposure, { place: p.location, from: localTime(p.from), to: localTime(p.to) });
      L.circleMarker([p.lat, p.lon], { radius: 8, color: '#b3261e', weight: 3, fillColor: '#fff', fillOpacity: 1 })
        .bindPopup(text).bindTooltip(p.location).addTo(marks);
    });
  }

  if (filter) filter.addEventListener('submit', e => { e.preventDefault(); refresh(); });
  if (box.dataset.marks) map.on('moveend', refreshMarks);

  // Health staff: find a case by number or citizen id and fly to its places (or its home commune).
  const search = document.getElementById('case-search');
  const caseLayer = L.layerGroup().addTo(map);
  if (search) search.addEventListener('submit', async e => {
    e.preventDefault();
    const out = search.querySelector('.alert');
    const q = search.querySelector('[name=q]').value.trim();
    out.hidden = false;
    out.className = 'alert';
    try {
      const found = /^\d{1,9}$/.test(q) ? [await get(`/api/v1/cases/${q}`)] : (await get(`/api/v1/cases?q=${encodeURIComponent(q)}`)).cases;
      const c = found && found[0];
      if (!c) throw new Error('none');
      const id = c.id;
      const commune = c.commune_code ?? c.person?.commune_code;
      const zones = await get(`/api/v1/cases/${id}/zones`).catch(() => ({ places: [] }));
      caseLayer.clearLayers();
      const points = zones.places.filter(p => p.lat != null).map(p => {
        const text = `${p.name}: ${localTime(p.from)} → ${localTime(p.to)}`;
        L.circleMarker([p.lat, p.lon], { radius: 9, color: '#b3261e', weight: 3, fillColor: '#fdecee', fillOpacity: 1 }).bindPopup(text).addTo(caseLayer);
        return [p.lat, p.lon];
      });
      if (points.length) map.flyToBounds(L.latLngBounds(points).pad(0.5), { maxZoom: 15 });
      else if (byCode.get(commune)) map.flyToBounds(byCode.get(commune).getBounds());
      out.classList.add('ok');
      out.replaceChildren(fill(T.map_case_found, { id, places: points.length }), ' ',
        el('a', { href: `/health?case=${id}` }, T.map_open_case));
    } catch (_) {
      out.replaceChildren(T.map_case_not_found);
    }
  });

  loadCommunes();
})();
