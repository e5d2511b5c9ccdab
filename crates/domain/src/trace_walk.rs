//! The generation walk of contact tracing, pure: from the stays of the people traced in one generation and the
//! stays of everyone else at those places, the next generation of contacts, each listed once with the person
//! through whom it was reached (`via`) and the evidence. The store reads the rows (a person's visits in a
//! window, the visits at a place in a span); what makes a stay, an exposure and a contact is decided here.
//!
//! The walk is a step function rather than one call with a reader because the store's reads are async and the
//! domain has none: the store asks [`TraceWalk::sources`] whom to read, reads, and hands the stays to
//! [`TraceWalk::advance`]. [`walk`] runs the same steps over a synchronous reader (an in-memory log).

use crate::tracing::{Exposure, Span, Visit, exposure};
use crate::{LocationKind, Rules};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A person's stay at a place: a visit turned into the time they were there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stay {
    pub citizen: i64,
    pub location_id: i64,
    pub span: Span,
}

/// How long a visit without an exit lasts at one place, and how long a case's presence lingers after leaving
/// (the place kind's extension in the rules), in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaceStay {
    pub dwell_secs: i64,
    pub extension_secs: i64,
}

/// A visit at a place the location table does not know (it cannot happen while visits reference locations)
/// lasts an hour without lingering, as it always has.
const UNKNOWN_PLACE: PlaceStay = PlaceStay {
    dwell_secs: 3600,
    extension_secs: 0,
};

/// Turns visits into stays: each place's dwell and extension.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StayRules {
    places: HashMap<i64, PlaceStay>,
}

impl StayRules {
    pub fn new(places: HashMap<i64, PlaceStay>) -> StayRules {
        StayRules { places }
    }

    /// From each place's id, kind and dwell time in minutes (as the location table holds them): the extension
    /// is the kind's in the rules; a kind that is unknown, or has no rule, lingers not at all.
    pub fn from_locations(
        rules: &Rules,
        locations: impl IntoIterator<Item = (i64, Option<LocationKind>, i64)>,
    ) -> StayRules {
        let places = locations
            .into_iter()
            .map(|(id, kind, dwell_minutes)| {
                let extension = kind
                    .and_then(|k| rules.location_kinds.get(&k))
                    .map_or(0, |k| i64::from(k.extension_minutes) * 60);
                let place = PlaceStay {
                    dwell_secs: dwell_minutes * 60,
                    extension_secs: extension,
                };
                (id, place)
            })
            .collect();
        StayRules { places }
    }

    pub fn of(&self, location_id: i64) -> PlaceStay {
        self.places
            .get(&location_id)
            .copied()
            .unwrap_or(UNKNOWN_PLACE)
    }

    /// The stay a visit stands for (see [`Visit::stay`]), given the person's next check-in if it was looked up.
    pub fn stay(&self, v: &Visit, next_entry: Option<i64>) -> Stay {
        Stay {
            citizen: v.citizen,
            location_id: v.location_id,
            span: v.stay(self.of(v.location_id).dwell_secs, next_entry),
        }
    }

    /// A traced person's stay as a source of exposure: extended after leaving where the place's kind says so
    /// (the virus lingers, the contact does not), then clipped to the window that counts; none if nothing is left.
    pub fn source_stay(&self, v: &Visit, next_entry: Option<i64>, window: Span) -> Option<Stay> {
        let stay = self.stay(v, next_entry).span;
        let span = Span {
            from: stay.from.max(window.from),
            to: (stay.to + self.of(v.location_id).extension_secs).min(window.to),
        };
        (span.to > span.from).then_some(Stay {
            citizen: v.citizen,
            location_id: v.location_id,
            span,
        })
    }
}

/// The visits, in the order given, that could share `min_minutes` with one of `sources` (another person, same
/// place) even if they lasted their whole dwell. A later check-in only shortens an open visit, so only these need
/// their next check-in looked up; the others cannot become exposures.
pub fn could_share(
    sources: &[Stay],
    visits: &[Visit],
    rules: &StayRules,
    min_minutes: u32,
) -> Vec<Visit> {
    let at = by_location(sources);
    visits
        .iter()
        .filter(|v| {
            let longest = rules.stay(v, None).span;
            at.get(&v.location_id).into_iter().flatten().any(|s| {
                s.citizen != v.citizen
                    && exposure(v.location_id, s.span, longest, min_minutes).is_some()
            })
        })
        .copied()
        .collect()
}

fn by_location(stays: &[Stay]) -> HashMap<i64, Vec<&Stay>> {
    let mut at: HashMap<i64, Vec<&Stay>> = HashMap::new();
    for s in stays {
        at.entry(s.location_id).or_default().push(s);
    }
    at
}

/// One person who shared a source's stay long enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shared {
    pub citizen: i64,
    pub source: i64,
    pub exposure: Exposure,
}

/// Every pair of a source's stay and another person's stay at the same place sharing at least `min_minutes`:
/// sources' stays in the order given, and for each the present stays in the order given.
pub fn shared(sources: &[Stay], present: &[Stay], min_minutes: u32) -> Vec<Shared> {
    let at = by_location(present);
    sources
        .iter()
        .flat_map(|s| {
            let here = at.get(&s.location_id).map_or(&[][..], Vec::as_slice);
            here.iter()
                .filter(move |o| o.citizen != s.citizen)
                .filter_map(move |o| {
                    let e = exposure(s.location_id, s.span, o.span, min_minutes);
                    e.map(|exposure| Shared {
                        citizen: o.citizen,
                        source: s.citizen,
                        exposure,
                    })
                })
        })
        .collect()
}

/// One person exposed to a case, at the degree found, with the case (`via`) and every shared stay with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    #[serde(rename = "citizen_id", with = "citizen_text")]
    pub citizen: i64,
    pub degree: u32,
    #[serde(with = "exposures_text")]
    pub exposures: Vec<Exposure>,
    #[serde(with = "citizen_text")]
    pub via: i64,
}

/// A finished trace as kept and answered. Fields are in the order of their JSON names: serde_json's maps sort
/// their keys, and the JSON kept before this type existed was written through one, so the bytes stay the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceResult {
    pub contacts: Vec<Contact>,
    pub min_overlap_minutes: u32,
    pub rule_version: String,
    #[serde(with = "span_text")]
    pub window: Span,
}

/// How far a walk goes and what counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkLimits {
    /// Generations to follow: 1 for F1 only, 2 for F1 and F2.
    pub depth: u32,
    pub min_overlap_minutes: u32,
    /// Where the window of a contact found now ends: they are not isolated yet.
    pub now: i64,
}

/// A trace in progress. Start from the case and its infectious window; while [`TraceWalk::sources`] is not empty,
/// read their stays and everyone's at those places and [`TraceWalk::advance`]; then [`TraceWalk::finish`].
///
/// The `via` rule: a person is listed once, at the lowest degree that reaches them. Of the sources of that
/// generation who exposed them, `via` is the one with the lowest citizen number (not the earliest exposure), and
/// the exposures listed are every one shared with that source, by start time then place.
#[derive(Debug, Clone)]
pub struct TraceWalk {
    limits: WalkLimits,
    degree: u32,
    known: HashSet<i64>,
    sources: Vec<(i64, Span)>,
    contacts: Vec<Contact>,
}

impl TraceWalk {
    pub fn new(index: i64, window: Span, limits: WalkLimits) -> TraceWalk {
        TraceWalk {
            limits,
            degree: 0,
            known: HashSet::from([index]),
            sources: vec![(index, window)],
            contacts: Vec::new(),
        }
    }

    /// Whom the next generation is traced from, each with the span that counts: the case in its window, then
    /// each contact from its first exposure until now. Empty when the walk is over.
    pub fn sources(&self) -> &[(i64, Span)] {
        if self.degree >= self.limits.depth {
            return &[];
        }
        &self.sources
    }

    /// The case and everyone found so far: their visits need not be read as anyone's contact.
    pub fn known(&self) -> &HashSet<i64> {
        &self.known
    }

    /// One generation: from the sources' stays (see [`StayRules::source_stay`]) and the stays of the others at
    /// those places (see [`StayRules::stay`]), the contacts of the next degree. Stays of people already known
    /// are ignored; the order given decides only between exposures that start at the same time at the same place.
    /// Does nothing once the walk is over.
    pub fn advance(&mut self, source_stays: &[Stay], present: &[Stay]) {
        if self.sources().is_empty() {
            return;
        }
        self.degree += 1;
        let strangers: Vec<Stay> = present
            .iter()
            .filter(|s| !self.known.contains(&s.citizen))
            .copied()
            .collect();
        let found = shared(source_stays, &strangers, self.limits.min_overlap_minutes);
        let level = generation(found, self.degree);
        self.sources = level
            .values()
            .map(|c| {
                let first = c.exposures.iter().map(|e| e.from).min();
                let from = first.unwrap_or(self.limits.now);
                (
                    c.citizen,
                    Span {
                        from,
                        to: self.limits.now,
                    },
                )
            })
            .collect();
        self.known.extend(level.keys().copied());
        self.contacts.extend(level.into_values());
    }

    /// The contacts by degree, then by citizen number.
    pub fn finish(self) -> Vec<Contact> {
        self.contacts
    }
}

/// The contacts of one degree, by citizen number, each via its lowest-numbered source (the `via` rule).
fn generation(mut found: Vec<Shared>, degree: u32) -> BTreeMap<i64, Contact> {
    // A stable sort: exposures equal in this key keep the order they were found in.
    found.sort_by_key(|f| (f.citizen, f.source, f.exposure.from));
    let mut level: BTreeMap<i64, Contact> = BTreeMap::new();
    for f in found {
        let c = level.entry(f.citizen).or_insert_with(|| Contact {
            citizen: f.citizen,
            degree,
            via: f.source,
            exposures: Vec::new(),
        });
        if c.via == f.source {
            c.exposures.push(f.exposure);
        }
    }
    for c in level.values_mut() {
        c.exposures.sort_by_key(|e| (e.from, e.location_id));
    }
    level
}

/// The whole walk over a synchronous reader: `read` gives, for the sources of a generation and the people
/// already known, the sources' stays and the stays of the others at those places.
pub fn walk<E>(
    index: i64,
    window: Span,
    limits: WalkLimits,
    mut read: impl FnMut(&[(i64, Span)], &HashSet<i64>) -> Result<(Vec<Stay>, Vec<Stay>), E>,
) -> Result<Vec<Contact>, E> {
    let mut w = TraceWalk::new(index, window, limits);
    while !w.sources().is_empty() {
        let (own, present) = read(w.sources(), w.known())?;
        w.advance(&own, &present);
    }
    Ok(w.finish())
}

/// A whole visit log in memory, read as the store reads its tables: for [`walk`] in tests and simulations.
#[derive(Debug, Clone)]
pub struct MemoryLog<'a> {
    visits: Vec<Visit>,
    rules: &'a StayRules,
    horizon_secs: i64,
}

impl<'a> MemoryLog<'a> {
    /// `horizon_secs` is how long after an open visit a check-in elsewhere still ends it (the rules' longest
    /// visit, as in the store).
    pub fn new(log: &[Visit], rules: &'a StayRules, horizon_secs: i64) -> MemoryLog<'a> {
        let mut visits = log.to_vec();
        // The store's order: the order given to the walk decides between exposures that tie.
        visits.sort_unstable_by_key(|v| (v.location_id, v.entered_at, v.citizen));
        visits.dedup();
        MemoryLog {
            visits,
            rules,
            horizon_secs,
        }
    }

    fn next_entry(&self, v: &Visit) -> Option<i64> {
        let later = |t: i64| t > v.entered_at && t <= v.entered_at + self.horizon_secs;
        let theirs = self.visits.iter().filter(|o| o.citizen == v.citizen);
        v.exited_at
            .is_none()
            .then(|| theirs.map(|o| o.entered_at).filter(|&t| later(t)).min())
            .flatten()
    }

    /// The sources' stays in their windows, and every stay of the people not yet known at the places of those.
    pub fn read(&self, sources: &[(i64, Span)], known: &HashSet<i64>) -> (Vec<Stay>, Vec<Stay>) {
        let windows: HashMap<i64, Span> = sources.iter().copied().collect();
        let own: Vec<Stay> = self
            .visits
            .iter()
            .filter_map(|v| {
                let window = *windows.get(&v.citizen)?;
                self.rules.source_stay(v, self.next_entry(v), window)
            })
            .collect();
        let places: HashSet<i64> = own.iter().map(|s| s.location_id).collect();
        let present = self
            .visits
            .iter()
            .filter(|v| places.contains(&v.location_id) && !known.contains(&v.citizen))
            .map(|v| self.rules.stay(v, self.next_entry(v)))
            .collect();
        (own, present)
    }
}

/// Unix seconds as RFC 3339 in UTC, whole seconds, `Z`: how traces have always written times (JSON and CSV).
pub fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_rfc3339<E: serde::de::Error>(s: &str) -> Result<i64, E> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp())
        .map_err(|e| E::custom(format!("{s:?} is not an RFC 3339 time: {e}")))
}

/// A citizen number (as visits key it) written as the 12-digit citizen id.
mod citizen_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn text(n: i64) -> String {
        format!("{n:012}")
    }

    pub fn serialize<S: Serializer>(n: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text(*n))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        let digits = s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
        let n = digits.then(|| s.parse().ok()).flatten();
        n.ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a 12-digit citizen id")))
    }
}

/// A window as `{"from", "to"}` in RFC 3339.
mod span_text {
    use super::{Span, parse_rfc3339, rfc3339};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Text {
        from: String,
        to: String,
    }

    pub fn serialize<S: Serializer>(w: &Span, s: S) -> Result<S::Ok, S::Error> {
        let text = Text {
            from: rfc3339(w.from),
            to: rfc3339(w.to),
        };
        text.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        let t = Text::deserialize(d)?;
        Ok(Span {
            from: parse_rfc3339(&t.from)?,
            to: parse_rfc3339(&t.to)?,
        })
    }
}

/// Exposures with their times in RFC 3339, fields in the order of their names (see [`TraceResult`]).
mod exposures_text {
    use super::{Exposure, parse_rfc3339, rfc3339};
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(serde::Serialize, Deserialize)]
    struct Text {
        from: String,
        location_id: i64,
        minutes: i64,
        to: String,
    }

    pub fn serialize<S: Serializer>(es: &[Exposure], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(es.iter().map(|e| Text {
            from: rfc3339(e.from),
            location_id: e.location_id,
            minutes: e.minutes,
            to: rfc3339(e.to),
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Exposure>, D::Error> {
        Vec::<Text>::deserialize(d)?
            .into_iter()
            .map(|t| {
                Ok(Exposure {
                    location_id: t.location_id,
                    from: parse_rfc3339(&t.from)?,
                    to: parse_rfc3339(&t.to)?,
                    minutes: t.minutes,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_628_553_600; // 2021-08-10T00:00:00Z
    const MIN: i64 = 60;
    const PLACE: i64 = 1;
    const SHOP: i64 = 2;

    fn visit(citizen: i64, location_id: i64, from_min: i64, to_min: Option<i64>) -> Visit {
        Visit {
            location_id,
            citizen,
            entered_at: T0 + from_min * MIN,
            exited_at: to_min.map(|t| T0 + t * MIN),
        }
    }

    fn rules() -> StayRules {
        let place = |dwell_min, extension_min| PlaceStay {
            dwell_secs: dwell_min * MIN,
            extension_secs: extension_min * MIN,
        };
        StayRules::new(HashMap::from([
            (PLACE, place(60, 0)),
            (SHOP, place(30, 30)),
        ]))
    }

    /// (citizen, degree, via) of a trace of citizen 1 over the whole day.
    fn trace(log: &[Visit], depth: u32, min: u32) -> Vec<Contact> {
        let rules = rules();
        let log = MemoryLog::new(log, &rules, 24 * 3600);
        let window = Span {
            from: T0,
            to: T0 + 24 * 3600,
        };
        let limits = WalkLimits {
            depth,
            min_overlap_minutes: min,
            now: T0 + 24 * 3600,
        };
        let read = |s: &[(i64, Span)], k: &HashSet<i64>| Ok::<_, ()>(log.read(s, k));
        walk(1, window, limits, read).unwrap_or_default()
    }

    fn found(contacts: &[Contact]) -> Vec<(i64, u32, i64)> {
        contacts
            .iter()
            .map(|c| (c.citizen, c.degree, c.via))
            .collect()
    }

    #[test]
    fn stays_that_only_touch_share_nothing() {
        let log = [
            visit(1, PLACE, 0, Some(30)),
            visit(2, PLACE, 30, Some(90)),
            visit(3, PLACE, 29, Some(90)),
        ];
        assert_eq!(found(&trace(&log, 1, 1)), [(3, 1, 1)], "one shared minute");
        assert!(trace(&log, 1, 2).is_empty());
    }

    #[test]
    fn exactly_the_threshold_counts_and_a_second_less_does_not() {
        let mut log = [visit(1, PLACE, 0, Some(60)), visit(2, PLACE, 45, Some(90))];
        let c = trace(&log, 1, 15);
        assert_eq!(found(&c), [(2, 1, 1)]);
        assert_eq!(c[0].exposures[0].minutes, 15);
        log[1].entered_at += 1;
        assert!(trace(&log, 1, 15).is_empty(), "14 min 59 s is 14 minutes");
    }

    #[test]
    fn via_is_the_lowest_numbered_source_with_only_its_exposures() {
        let log = [
            visit(1, PLACE, 0, Some(60)),
            visit(3, PLACE, 0, Some(60)),
            visit(2, PLACE, 0, Some(60)),
            // Met 3 first and longer, then 2.
            visit(3, SHOP, 100, Some(200)),
            visit(9, SHOP, 100, Some(200)),
            visit(2, PLACE, 300, Some(330)),
            visit(9, PLACE, 300, Some(330)),
        ];
        let c = trace(&log, 2, 15);
        assert_eq!(found(&c), [(2, 1, 1), (3, 1, 1), (9, 2, 2)]);
        assert_eq!(c[2].exposures.len(), 1);
        assert_eq!(c[2].exposures[0].location_id, PLACE);
    }

    #[test]
    fn a_person_is_listed_once_at_the_lowest_degree() {
        let log = [
            visit(1, PLACE, 0, Some(60)),
            visit(2, PLACE, 0, Some(60)),
            visit(3, PLACE, 30, Some(90)),
        ];
        assert_eq!(found(&trace(&log, 2, 15)), [(2, 1, 1), (3, 1, 1)]);
    }

    #[test]
    fn a_contact_passes_it_on_only_after_its_exposure() {
        let log = [
            visit(2, PLACE, 0, Some(60)),
            visit(1, PLACE, 120, Some(180)),
            visit(2, PLACE, 120, Some(180)),
            visit(3, PLACE, 0, Some(60)),
            visit(4, PLACE, 200, Some(260)),
            visit(2, PLACE, 200, Some(260)),
        ];
        assert_eq!(found(&trace(&log, 2, 15)), [(2, 1, 1), (4, 2, 2)]);
        assert_eq!(
            found(&trace(&log, 1, 15)),
            [(2, 1, 1)],
            "depth 1 is F1 only"
        );
    }

    #[test]
    fn a_case_lingers_after_leaving_where_the_kind_says_so_its_contacts_do_not() {
        let log = [
            visit(1, SHOP, 0, Some(30)),
            visit(2, SHOP, 40, Some(70)),
            // 2 lingers as a source too, but 3 came after 2 left.
            visit(3, SHOP, 80, Some(120)),
        ];
        let c = trace(&log, 2, 15);
        assert_eq!(found(&c), [(2, 1, 1), (3, 2, 2)]);
        assert_eq!(c[0].exposures[0].minutes, 20);
        assert_eq!(c[1].exposures[0].minutes, 20, "2's stay lingers until 100");
    }

    #[test]
    fn an_open_visit_ends_at_the_next_check_in_or_after_the_dwell() {
        let log = [
            visit(1, PLACE, 0, None),
            visit(1, SHOP, 20, Some(25)),
            visit(2, PLACE, 10, Some(90)),
            visit(3, PLACE, 50, Some(90)),
        ];
        let c = trace(&log, 1, 5);
        assert_eq!(found(&c), [(2, 1, 1)], "1 left PLACE at 20");
        assert_eq!(c[0].exposures[0].minutes, 10);
        let open = [visit(1, PLACE, 0, None), visit(3, PLACE, 50, Some(90))];
        assert_eq!(trace(&open, 1, 5)[0].exposures[0].minutes, 10, "dwell 60");
    }

    #[test]
    fn exposures_are_listed_by_start_then_place() {
        let log = [
            visit(1, SHOP, 100, Some(160)),
            visit(2, SHOP, 100, Some(160)),
            visit(1, PLACE, 0, Some(60)),
            visit(2, PLACE, 0, Some(60)),
        ];
        let c = trace(&log, 1, 15);
        let at: Vec<i64> = c[0].exposures.iter().map(|e| e.location_id).collect();
        assert_eq!(at, [PLACE, SHOP]);
    }

    fn sample() -> TraceResult {
        let log = [
            visit(123_456_789_012, PLACE, 0, Some(60)),
            visit(1, PLACE, 30, Some(90)),
            visit(42, PLACE, 65, Some(120)),
        ];
        TraceResult {
            contacts: trace(&log, 2, 15),
            min_overlap_minutes: 15,
            rule_version: "VN-2021-12".into(),
            window: Span {
                from: T0,
                to: T0 + 86_400,
            },
        }
    }

    #[test]
    fn the_typed_json_is_the_json_kept_before_it_byte_for_byte() {
        let r = sample();
        assert_eq!(r.contacts.len(), 2);
        let typed = serde_json::to_string(&r).unwrap();
        // As the hand-written JSON of the untyped engine kept it.
        let before = r#"{"contacts":[{"citizen_id":"000000000042","degree":1,"exposures":[{"from":"2021-08-10T01:05:00Z","location_id":1,"minutes":25,"to":"2021-08-10T01:30:00Z"}],"via":"000000000001"},{"citizen_id":"123456789012","degree":1,"exposures":[{"from":"2021-08-10T00:30:00Z","location_id":1,"minutes":30,"to":"2021-08-10T01:00:00Z"}],"via":"000000000001"}],"min_overlap_minutes":15,"rule_version":"VN-2021-12","window":{"from":"2021-08-10T00:00:00Z","to":"2021-08-11T00:00:00Z"}}"#;
        assert_eq!(typed, before);
        assert!(typed.contains(r#""citizen_id":"123456789012""#));
        assert!(typed.contains(r#""via":"000000000001""#));
        assert!(
            typed.contains(
                r#""window":{"from":"2021-08-10T00:00:00Z","to":"2021-08-11T00:00:00Z"}"#
            )
        );
        let back: TraceResult = serde_json::from_str(&typed).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn a_kept_trace_that_is_not_one_does_not_read() {
        let good = serde_json::to_string(&sample()).unwrap();
        for bad in [
            good.replace("2021-08-10T00:00:00Z", "yesterday"),
            good.replace("123456789012", "12345"),
            good.replace("\"degree\"", "\"grade\""),
            "[]".to_owned(),
        ] {
            assert!(serde_json::from_str::<TraceResult>(&bad).is_err(), "{bad}");
        }
    }
}
