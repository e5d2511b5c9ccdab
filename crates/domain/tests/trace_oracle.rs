//! The tracing walk against a brute-force oracle on small random visit logs: every pair of stays compared
//! directly, F1 = shared at least the threshold with the case in its window, F2 = shared it with an F1 after the
//! F1's first exposure, neither the case nor an F1. The oracle shares no code with the engine but `Visit`.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

use kiemdich_domain::Visit;
use kiemdich_domain::trace_walk::{Contact, MemoryLog, PlaceStay, StayRules, WalkLimits, walk};
use kiemdich_domain::tracing::Span;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const T0: i64 = 1_628_553_600; // 2021-08-10T00:00:00Z
const INDEX: i64 = 1;
const HORIZON: i64 = 24 * 3600;

#[derive(Debug, Clone)]
struct Case {
    /// Per location 1..=4: (dwell, extension) in seconds.
    places: Vec<(i64, i64)>,
    visits: Vec<Visit>,
    window: Span,
    now: i64,
    min: u32,
}

fn visit() -> impl Strategy<Value = Visit> {
    let entry =
        (0i64..240, prop::bool::ANY).prop_map(|(m, half)| m * 60 + if half { 30 } else { 0 });
    let length = prop::option::weighted(0.75, (1i64..120, prop::bool::ANY))
        .prop_map(|l| l.map(|(m, half)| m * 60 + if half { 30 } else { 0 }));
    (1i64..=8, 1i64..=4, entry, length).prop_map(|(citizen, location_id, entry, length)| Visit {
        location_id,
        citizen,
        entered_at: T0 + entry,
        exited_at: length.map(|l| T0 + entry + l),
    })
}

fn case() -> impl Strategy<Value = Case> {
    let place = (10i64..=90, prop::sample::select(vec![0i64, 0, 15, 30]))
        .prop_map(|(dwell, ext)| (dwell * 60, ext * 60));
    (
        prop::collection::vec(place, 4),
        prop::collection::vec(visit(), 0..=24),
        0i64..=120,
        1i64..=300,
        0i64..=240,
        1u32..=30,
    )
        .prop_map(|(places, mut visits, from, length, after, min)| {
            // The store keeps one visit per person, place and entry time.
            visits.sort_unstable_by_key(|v| (v.citizen, v.location_id, v.entered_at));
            visits.dedup_by_key(|v| (v.citizen, v.location_id, v.entered_at));
            let window = Span {
                from: T0 + from * 60,
                to: T0 + (from + length) * 60,
            };
            Case {
                places,
                visits,
                window,
                now: window.to + after * 60,
                min,
            }
        })
}

fn engine(c: &Case, depth: u32) -> Vec<Contact> {
    let places = c
        .places
        .iter()
        .enumerate()
        .map(|(i, &(dwell_secs, extension_secs))| {
            let place = PlaceStay {
                dwell_secs,
                extension_secs,
            };
            (i as i64 + 1, place)
        });
    let rules = StayRules::new(places.collect());
    let log = MemoryLog::new(&c.visits, &rules, HORIZON);
    let limits = WalkLimits {
        depth,
        min_overlap_minutes: c.min,
        now: c.now,
    };
    walk(INDEX, c.window, limits, |s, k| {
        Ok::<_, std::convert::Infallible>(log.read(s, k))
    })
    .unwrap()
}

/// The oracle: plain intervals and loops.
struct Oracle<'a> {
    c: &'a Case,
}

/// (location, from, to) in seconds.
type Interval = (i64, i64, i64);
/// (location, from, to, whole minutes).
type Evidence = Vec<(i64, i64, i64, i64)>;

impl Oracle<'_> {
    fn end(&self, v: &Visit) -> i64 {
        if let Some(exit) = v.exited_at {
            return exit;
        }
        let dwell = self.c.places[(v.location_id - 1) as usize].0;
        let next = self
            .c
            .visits
            .iter()
            .filter(|o| o.citizen == v.citizen && o.entered_at > v.entered_at)
            .map(|o| o.entered_at)
            .min();
        next.map_or(v.entered_at + dwell, |n| n.min(v.entered_at + dwell))
    }

    fn stays(&self, who: i64) -> Vec<Interval> {
        let theirs = self.c.visits.iter().filter(|v| v.citizen == who);
        theirs
            .map(|v| (v.location_id, v.entered_at, self.end(v)))
            .collect()
    }

    /// A source's stays: lingering after leaving, cut to the span that counts.
    fn source(&self, who: i64, from: i64, to: i64) -> Vec<Interval> {
        let theirs = self.c.visits.iter().filter(|v| v.citizen == who);
        theirs
            .map(|v| {
                let ext = self.c.places[(v.location_id - 1) as usize].1;
                (
                    v.location_id,
                    v.entered_at.max(from),
                    (self.end(v) + ext).min(to),
                )
            })
            .filter(|&(_, a, b)| b > a)
            .collect()
    }

    /// Every exposure of `who` to a source's stays.
    fn exposures(&self, source: &[Interval], who: i64) -> Evidence {
        let mut out = Vec::new();
        for &(l1, a1, b1) in source {
            for (l2, a2, b2) in self.stays(who) {
                let (from, to) = (a1.max(a2), b1.min(b2));
                let minutes = (to - from).max(0) / 60;
                if l1 == l2 && minutes >= i64::from(self.c.min) {
                    out.push((l1, from, to, minutes));
                }
            }
        }
        out.sort_unstable();
        out
    }

    fn people(&self) -> BTreeSet<i64> {
        self.c.visits.iter().map(|v| v.citizen).collect()
    }

    /// F1s with their exposures to the case.
    fn f1(&self) -> BTreeMap<i64, Evidence> {
        let (w, c) = (self.c.window, INDEX);
        let src = self.source(c, w.from, w.to);
        let found = self.people().into_iter().filter(|&p| p != c);
        found
            .map(|p| (p, self.exposures(&src, p)))
            .filter(|(_, e)| !e.is_empty())
            .collect()
    }

    /// F2s with every F1 they met after that F1's first exposure, and the exposures to each.
    fn f2(&self) -> BTreeMap<i64, BTreeMap<i64, Evidence>> {
        let f1 = self.f1();
        let mut out: BTreeMap<i64, BTreeMap<i64, Evidence>> = BTreeMap::new();
        for (&f, exposures) in &f1 {
            let first = exposures.iter().map(|e| e.1).min().unwrap();
            let src = self.source(f, first, self.c.now);
            for p in self.people() {
                if p == INDEX || f1.contains_key(&p) {
                    continue;
                }
                let e = self.exposures(&src, p);
                if !e.is_empty() {
                    out.entry(p).or_default().insert(f, e);
                }
            }
        }
        out
    }
}

fn evidence(c: &Contact) -> Evidence {
    let mut e: Vec<_> = c
        .exposures
        .iter()
        .map(|e| (e.location_id, e.from, e.to, e.minutes))
        .collect();
    e.sort_unstable();
    e
}

fn check(c: &Case, depth: u32) -> Result<(), TestCaseError> {
    let got = engine(c, depth);
    let oracle = Oracle { c };
    let f1 = oracle.f1();
    let f2 = if depth >= 2 {
        oracle.f2()
    } else {
        BTreeMap::new()
    };
    let want: BTreeSet<(i64, u32)> = f1
        .keys()
        .map(|&p| (p, 1))
        .chain(f2.keys().map(|&p| (p, 2)))
        .collect();
    let have: BTreeSet<(i64, u32)> = got.iter().map(|c| (c.citizen, c.degree)).collect();
    prop_assert_eq!(&have, &want);
    prop_assert_eq!(have.len(), got.len(), "each person once");
    let order: Vec<(u32, i64)> = got.iter().map(|c| (c.degree, c.citizen)).collect();
    prop_assert!(order.is_sorted(), "by degree, then citizen: {:?}", order);
    for contact in &got {
        let starts: Vec<(i64, i64)> = contact
            .exposures
            .iter()
            .map(|e| (e.from, e.location_id))
            .collect();
        prop_assert!(starts.is_sorted(), "exposures by start, then place");
        if contact.degree == 1 {
            prop_assert_eq!(contact.via, INDEX);
            prop_assert_eq!(evidence(contact), f1[&contact.citizen].clone());
        } else {
            let met = &f2[&contact.citizen];
            // A witness: an F1 they shared enough with; the rule: the lowest-numbered one.
            prop_assert!(
                met.contains_key(&contact.via),
                "via {} is no witness",
                contact.via
            );
            prop_assert_eq!(Some(&contact.via), met.keys().next());
            prop_assert_eq!(evidence(contact), met[&contact.via].clone());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_walk_finds_what_brute_force_finds(c in case()) {
        check(&c, 2)?;
    }

    #[test]
    fn depth_one_finds_the_f1s_only(c in case()) {
        check(&c, 1)?;
    }
}

/// A log dense enough that the random ones above are not all empty.
#[test]
fn the_random_logs_find_contacts() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut f1, mut f2) = (0, 0);
    for _ in 0..500 {
        let c = case().new_tree(&mut runner).unwrap().current();
        let found = engine(&c, 2);
        f1 += found.iter().filter(|c| c.degree == 1).count();
        f2 += found.iter().filter(|c| c.degree == 2).count();
    }
    assert!(f1 > 200 && f2 > 50, "{f1} F1s and {f2} F2s in 500 logs");
}
