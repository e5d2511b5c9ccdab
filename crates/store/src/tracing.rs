//! The rows tracing reads: a case's (or contact's) visits in a window, then the visits at each place they stayed
//! that began at most one longest-stay before they left; every read is an index range. Who is a contact, at what
//! degree and via whom is the domain's walk ([`kiemdich_domain::trace_walk`]); this only feeds it.

use crate::db::{Result, Store};
use crate::visits::{VisitKey, citizen_number, citizen_text};
use chrono::NaiveDate;
pub use kiemdich_domain::trace_walk::{Contact, TraceResult};
use kiemdich_domain::trace_walk::{
    Stay, StayRules, TraceWalk, WalkLimits, could_share, rfc3339, shared,
};
use kiemdich_domain::{CitizenId, LocationKind, Rules, Span};
use std::collections::{HashMap, HashSet};

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

const CSV_HEADER: &str = "citizen_id,degree,via,location_id,from,to,minutes\n";

/// A trace result as CSV: one line per exposure, for spreadsheets.
pub fn trace_csv(result: &TraceResult) -> String {
    let mut out = String::from(CSV_HEADER);
    for c in &result.contacts {
        for e in &c.exposures {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                citizen_text(c.citizen),
                c.degree,
                citizen_text(c.via),
                e.location_id,
                rfc3339(e.from),
                rfc3339(e.to),
                e.minutes
            ));
        }
    }
    out
}

impl Store {
    /// How visits become stays at each place, from the location table and the rules.
    async fn stay_rules(&self, rules: &Rules) -> Result<StayRules> {
        let places =
            self.location_dwells()
                .await?
                .into_iter()
                .map(|(id, (kind, dwell_minutes))| {
                    (id, LocationKind::parse(&kind).ok(), dwell_minutes)
                });
        Ok(StayRules::from_locations(rules, places))
    }

    /// The stays of each source inside its window (see [`StayRules::source_stay`]), read as two index ranges:
    /// their visits that may reach into the window, then the next check-in after each open one.
    async fn stays_of(
        &self,
        sources: &[(i64, Span)],
        stays: &StayRules,
        max_span: i64,
    ) -> Result<Vec<Stay>> {
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
                let window = *windows.get(&v.citizen)?;
                stays.source_stay(v, next.get(&(v.citizen, v.entered_at)).copied(), window)
            })
            .collect())
    }

    /// The stays of everyone but the `known` at the places of `source_stays` that could share `min` minutes
    /// with one of them: the visits there, then the next check-in of those that qualify on their dwell alone.
    async fn present_at(
        &self,
        source_stays: &[Stay],
        known: &HashSet<i64>,
        min: u32,
        stays: &StayRules,
        max_span: i64,
    ) -> Result<Vec<Stay>> {
        // Whoever left before `min` minutes of the stay had passed cannot have shared `min` minutes of it.
        let ranges: Vec<(i64, Span, i64)> = source_stays
            .iter()
            .map(|s| {
                let entered = Span {
                    from: s.span.from - max_span,
                    to: s.span.to,
                };
                (
                    s.location_id,
                    entered,
                    s.span.from + i64::from(min) * 60 - 1,
                )
            })
            .collect();
        let mut there = self.visits_in(VisitKey::Location, &ranges).await?;
        there.retain(|v| !known.contains(&v.citizen));
        let candidates = could_share(source_stays, &there, stays, min);
        let next = self.next_entries(&candidates, max_span).await?;
        Ok(candidates
            .iter()
            .map(|v| stays.stay(v, next.get(&(v.citizen, v.entered_at)).copied()))
            .collect())
    }

    /// Traces a case with the domain's walk ([`TraceWalk`]: F1s from its stays in its window, then each further
    /// degree from the contacts found, from their first exposure until now), reading the rows each step needs.
    pub async fn trace(&self, rules: &Rules, p: &TraceParams) -> Result<TraceResult> {
        let stays = self.stay_rules(rules).await?;
        let max_span = i64::from(rules.tracing.max_visit_hours) * 3600;
        let limits = WalkLimits {
            depth: p.depth,
            min_overlap_minutes: p.min_overlap_minutes,
            now: p.now,
        };
        let mut walk = TraceWalk::new(p.citizen, p.window, limits);
        while !walk.sources().is_empty() {
            let own = self.stays_of(walk.sources(), &stays, max_span).await?;
            let min = p.min_overlap_minutes;
            let present = self
                .present_at(&own, walk.known(), min, &stays, max_span)
                .await?;
            walk.advance(&own, &present);
        }
        Ok(TraceResult {
            contacts: walk.finish(),
            min_overlap_minutes: p.min_overlap_minutes,
            rule_version: rules.version.clone(),
            window: p.window,
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
        let known = HashSet::from([citizen]);
        let others = self.present_at(&own, &known, 1, &stays, max_span).await?;
        let present = shared(&own, &others, 1);
        let zones = own
            .iter()
            .map(|stay| {
                // An exposure lies inside the stay it was shared from.
                let mut visitors: Vec<i64> = present
                    .iter()
                    .filter(|p| {
                        let e = p.exposure;
                        e.location_id == stay.location_id
                            && e.from >= stay.span.from
                            && e.to <= stay.span.to
                    })
                    .map(|p| p.citizen)
                    .collect();
                visitors.sort_unstable();
                visitors.dedup();
                Zone {
                    location_id: stay.location_id,
                    window: stay.span,
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
