//! The tracing engine: from a case's infectious window to its F1s, their F2s and further, each contact with the
//! evidence that makes it one. Reads only index ranges: the case's own visits, then the visits at each place it
//! stayed that began at most one longest-stay before it left.

use crate::db::{Result, Store};
use crate::visits::{VisitKey, citizen_number, citizen_text};
use chrono::NaiveDate;
use kiemdich_domain::tracing::{Exposure, exposure};
use kiemdich_domain::{CitizenId, LocationKind, Rules, Span, Visit};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What to trace: a person (citizen number), their infectious window, how deep and how much overlap counts.
#[derive(Debug, Clone, Copy)]
pub struct TraceParams {
    pub citizen: i64,
    pub window: Span,
    pub depth: u32,
    pub min_overlap_minutes: u32,
    /// The end of the window of a contact found now: they are not isolated yet.
    pub now: i64,
}

impl TraceParams {
    /// Checks a trace request against the rules: a window that is not in the future, bounds on depth and
    /// overlap (defaults from the rules). The window ends now when the case is not isolated.
    pub fn new(
        rules: &Rules,
        citizen: &CitizenId,
        onset: NaiveDate,
        isolated: Option<NaiveDate>,
        depth: Option<u32>,
        min_overlap: Option<u32>,
    ) -> std::result::Result<TraceParams, String> {
        let t = &rules.tracing;
        let now = chrono::Utc::now().timestamp();
        // Before the epidemic (the rules' earliest date) there is nothing to trace, however old the record.
        let dates = rules.dates_at(now);
        dates.past(onset).map_err(|e| format!("onset: {e}"))?;
        let window = t.infectious_window(onset, isolated, now)?;
        let depth = depth.unwrap_or(t.default_depth);
        if !(1..=t.max_depth).contains(&depth) {
            return Err(format!("depth must be 1 to {}", t.max_depth));
        }
        let min_overlap_minutes = min_overlap.unwrap_or(t.min_overlap_minutes);
        if !(1..=24 * 60).contains(&min_overlap_minutes) {
            return Err("min_overlap must be 1 to 1440 minutes".into());
        }
        Ok(TraceParams {
            citizen: citizen_number(citizen.as_str()).ok_or("citizen id is not 12 digits")?,
            window,
            depth,
            min_overlap_minutes,
            now,
        })
    }
}

/// One person exposed to a case, with the case (`via`) and every shared stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub citizen: i64,
    pub degree: u32,
    pub via: i64,
    pub exposures: Vec<Exposure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceResult {
    pub rule_version: String,
    pub window: Span,
    pub min_overlap_minutes: u32,
    pub contacts: Vec<Contact>,
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl TraceResult {
    /// The result as the CLI prints it and the API answers it.
    pub fn to_json(&self) -> Value {
        let contacts: Vec<Value> = self
            .contacts
            .iter()
            .map(|c| {
                let exposures: Vec<Value> = c
                    .exposures
                    .iter()
                    .map(|e| json!({"location_id": e.location_id, "from": rfc3339(e.from), "to": rfc3339(e.to), "minutes": e.minutes}))
                    .collect();
                json!({"citizen_id": citizen_text(c.citizen), "degree": c.degree, "via": citizen_text(c.via), "exposures": exposures})
            })
            .collect();
        json!({
            "rule_version": self.rule_version,
            "window": {"from": rfc3339(self.window.from), "to": rfc3339(self.window.to)},
            "min_overlap_minutes": self.min_overlap_minutes,
            "contacts": contacts,
        })
    }
}

/// A trace result (as [`TraceResult::to_json`] gives it) as CSV: one line per exposure, for spreadsheets.
pub fn trace_csv(result: &Value) -> String {
    let mut out = String::from("citizen_id,degree,via,location_id,from,to,minutes\n");
    for c in result["contacts"].as_array().into_iter().flatten() {
        for e in c["exposures"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                c["citizen_id"].as_str().unwrap_or_default(),
                c["degree"],
                c["via"].as_str().unwrap_or_default(),
                e["location_id"],
                e["from"].as_str().unwrap_or_default(),
                e["to"].as_str().unwrap_or_default(),
                e["minutes"]
            ));
        }
    }
    out
}

/// How long a visit without an exit lasts at each place, and how long a case's presence lingers after leaving.
struct StayRules {
    places: HashMap<i64, (i64, i64)>,
    default_dwell: i64,
}

impl StayRules {
    fn of(&self, location: i64) -> (i64, i64) {
        self.places
            .get(&location)
            .copied()
            .unwrap_or((self.default_dwell, 0))
    }
}

impl Store {
    async fn stay_rules(&self, rules: &Rules) -> Result<StayRules> {
        let places = self
            .location_dwells()
            .await?
            .into_iter()
            .map(|(id, (kind, dwell_minutes))| {
                let extension = LocationKind::parse(&kind)
                    .ok()
                    .and_then(|k| rules.location_kinds.get(&k))
                    .map_or(0, |k| i64::from(k.extension_minutes) * 60);
                (id, (dwell_minutes * 60, extension))
            })
            .collect();
        Ok(StayRules {
            places,
            default_dwell: 3600,
        })
    }

    /// The stays of each source inside its window: exits implied by the next check-in or the dwell, extended
    /// after leaving where the rules say so, clipped to the window. Returns (source, location, stay).
    async fn stays_of(
        &self,
        sources: &[(i64, Span)],
        stays: &StayRules,
        max_span: i64,
    ) -> Result<Vec<(i64, i64, Span)>> {
        let ranges: Vec<(i64, Span, i64)> = sources
            .iter()
            .map(|&(c, w)| {
                let entered = Span {
                    from: w.from - max_span,
                    to: w.to,
                };
                (c, entered, w.from)
            })
            .collect();
        let own = self.visits_in(VisitKey::Citizen, &ranges).await?;
        let next = self.next_entries(&own, max_span).await?;
        let windows: HashMap<i64, Span> = sources.iter().copied().collect();
        Ok(own
            .iter()
            .filter_map(|v| {
                let window = windows[&v.citizen];
                let (dwell, extension) = stays.of(v.location_id);
                let stay = v.stay(dwell, next.get(&(v.citizen, v.entered_at)).copied());
                let clipped = Span {
                    from: stay.from.max(window.from),
                    to: (stay.to + extension).min(window.to),
                };
                (clipped.to > clipped.from).then_some((v.citizen, v.location_id, clipped))
            })
            .collect())
    }

    /// Everyone who shared at least `min` minutes of one of the sources' stays, except the people in `skip`:
    /// (person, source, exposure).
    async fn sharers(
        &self,
        source_stays: &[(i64, i64, Span)],
        skip: &HashSet<i64>,
        min: u32,
        stays: &StayRules,
        max_span: i64,
    ) -> Result<Vec<(i64, i64, Exposure)>> {
        // Whoever left before `min` minutes of the stay had passed cannot have shared `min` minutes of it.
        let ranges: Vec<(i64, Span, i64)> = source_stays
            .iter()
            .map(|&(_, loc, s)| {
                let entered = Span {
                    from: s.from - max_span,
                    to: s.to,
                };
                (loc, entered, s.from + i64::from(min) * 60 - 1)
            })
            .collect();
        let mut at: HashMap<i64, Vec<Visit>> = HashMap::new();
        for v in self.visits_in(VisitKey::Location, &ranges).await? {
            if !skip.contains(&v.citizen) {
                at.entry(v.location_id).or_default().push(v);
            }
        }
        // Pairs that qualify on the dwell alone; a later check-in can only shorten a stay, so only these need
        // the lookup of next entries.
        let mut pairs: Vec<(Visit, i64, i64, Span)> = Vec::new();
        for &(source, loc, stay) in source_stays {
            let dwell = stays.of(loc).0;
            for o in at.get(&loc).into_iter().flatten() {
                if o.citizen != source && exposure(loc, stay, o.stay(dwell, None), min).is_some() {
                    pairs.push((*o, source, loc, stay));
                }
            }
        }
        let open: Vec<Visit> = pairs.iter().map(|p| p.0).collect();
        let next = self.next_entries(&open, max_span).await?;
        Ok(pairs
            .iter()
            .filter_map(|&(o, source, loc, stay)| {
                let theirs = o.stay(
                    stays.of(loc).0,
                    next.get(&(o.citizen, o.entered_at)).copied(),
                );
                exposure(loc, stay, theirs, min).map(|e| (o.citizen, source, e))
            })
            .collect())
    }

    /// Traces a case: F1s from its stays in its window, then each further degree from the contacts found, from
    /// their first exposure until now. A person is listed once, at the lowest degree, via the first case that
    /// exposed them (in citizen id order), with every exposure to that case.
    pub async fn trace(&self, rules: &Rules, p: &TraceParams) -> Result<TraceResult> {
        let stays = self.stay_rules(rules).await?;
        let max_span = i64::from(rules.tracing.max_visit_hours) * 3600;
        let mut seen: HashSet<i64> = HashSet::from([p.citizen]);
        let mut sources = vec![(p.citizen, p.window)];
        let mut contacts = Vec::new();
        for degree in 1..=p.depth {
            let mut level: BTreeMap<i64, Contact> = BTreeMap::new();
            let own = self.stays_of(&sources, &stays, max_span).await?;
            let mut found = self
                .sharers(&own, &seen, p.min_overlap_minutes, &stays, max_span)
                .await?;
            // Sources in citizen id order decide the `via` of a person exposed to several.
            found.sort_by_key(|&(citizen, source, e)| (citizen, source, e.from));
            for (citizen, source, e) in found {
                let c = level.entry(citizen).or_insert_with(|| Contact {
                    citizen,
                    degree,
                    via: source,
                    exposures: Vec::new(),
                });
                if c.via == source {
                    c.exposures.push(e);
                }
            }
            sources = level
                .values()
                .map(|c| {
                    let first = c.exposures.iter().map(|e| e.from).min().unwrap_or(p.now);
                    (
                        c.citizen,
                        Span {
                            from: first,
                            to: p.now,
                        },
                    )
                })
                .collect();
            seen.extend(level.keys().copied());
            contacts.extend(level.into_values().map(|mut c| {
                c.exposures.sort_by_key(|e| (e.from, e.location_id));
                c
            }));
            if sources.is_empty() {
                break;
            }
        }
        Ok(TraceResult {
            rule_version: rules.version.clone(),
            window: p.window,
            min_overlap_minutes: p.min_overlap_minutes,
            contacts,
        })
    }

    /// Where a case stayed in its window, and who else was at each of those places during the stay (any
    /// overlap): the zones that officers close or disinfect and whose visitors are told to watch their health.
    pub async fn zones(&self, rules: &Rules, citizen: i64, window: Span) -> Result<Vec<Zone>> {
        let stays = self.stay_rules(rules).await?;
        let max_span = i64::from(rules.tracing.max_visit_hours) * 3600;
        let own = self
            .stays_of(&[(citizen, window)], &stays, max_span)
            .await?;
        let skip = HashSet::from([citizen]);
        let present = self.sharers(&own, &skip, 1, &stays, max_span).await?;
        let zones = own
            .iter()
            .map(|&(_, location, stay)| {
                // An exposure lies inside the stay it was shared from.
                let mut visitors: Vec<i64> = present
                    .iter()
                    .filter(|(_, _, e)| {
                        e.location_id == location && e.from >= stay.from && e.to <= stay.to
                    })
                    .map(|p| p.0)
                    .collect();
                visitors.sort_unstable();
                visitors.dedup();
                Zone {
                    location_id: location,
                    window: stay,
                    visitors,
                }
            })
            .collect();
        Ok(zones)
    }
}

/// A place a case stayed at, when, and who shared any whole minute of it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub location_id: i64,
    pub window: Span,
    pub visitors: Vec<i64>,
}
