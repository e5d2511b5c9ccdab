//! A province of phones over days, to measure proximity tracing against a ground truth
//! (`kiemdich proximity simulate`).
//!
//! # The model
//!
//! People live in households and, on working days, go to a workplace or school; some ride a bus there and back
//! (with whoever else of their route leaves at the same ten minutes: strangers), some visit one of the
//! markets. Everyone is somewhere every ten-minute slot; people at the same place and slot stand at random
//! points of it (a house's rooms, a workplace's floor sized by its people, a market sized by its crowd, a bus),
//! redrawn every hour at home, every three hours at work and every slot at a market or on a bus.
//!
//! A share of people run the app. Each phone draws a Temporary Exposure Key a day (the crate's key generation
//! fed by a seeded generator), broadcasts that key's RPI with its encrypted metadata (its model's transmit
//! power) and rotates it, with its Bluetooth address, at its own offset within every ten minutes (and at
//! midnight, when the key changes). A phone scans every `scan_period_seconds` at its own phase; a scan hears a
//! phone in range with RSSI = transmit power − path loss(distance) − body or pocket loss (per pair and slot) +
//! Gaussian noise + the scanning model's bias, and keeps an [`Observation`] credited with the scan period.
//! The rules' calibration of each model (the correction that cancels its bias) is data.
//!
//! Some people become cases: each is diagnosed on a day, infectious from two days before onset, and stays
//! home afterwards. Cases with the app upload their keys of the infectious days on the day of diagnosis; each
//! day's uploads become a signed export (the crate's writer). Every phone reads every export (signature
//! checked) and matches each day's observations against the keys of that day ([`ObservationIndex`]), as a
//! phone matches its stored observations against each new batch.
//!
//! Ground truth: a person at most `close_distance_m` from an infectious case for at least the rules'
//! `min_close_minutes` in a day (counted in slots) is a true F1; between two app users that (person, case,
//! day) is a true exposure, against which the matched close contacts give precision and recall. The
//! presence log is compared too: it finds the people who checked in (QR) at a workplace or market during a
//! slot an infectious case also checked in there; homes and buses have no check-in.
//!
//! The module is pure: the caller passes a monotonic clock reading (nanoseconds) to time the matching, and
//! all randomness comes from the seed, so a seed gives the same report but for the timings.

use crate::TemporaryExposureKey;
use crate::crypto::{AemCipher, EnIntervalNumber, INTERVAL_SECONDS, Metadata, Rpi, RpiGenerator};
use crate::export::{ECDSA_P256_SHA256, KeyExport, SignatureInfo, build_export, read_export};
use crate::matching::{Observation, ObservationIndex};
use crate::rules::{Calibration, ProximityRules};
use p256::ecdsa::SigningKey;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

const DEFAULT_CONFIG: &str = include_str!("../data/simulation.json");
const SLOTS: u32 = 144;
const SLOT_MINUTES: u32 = 10;

/// The model's assumptions, as data (`data/simulation.json`, with its sources).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationConfig {
    pub version: String,
    pub source: String,
    /// The first simulated day (UTC dates; key days are UTC days).
    pub start_date: chrono::NaiveDate,
    /// Local time's offset from UTC, for the hours of work and markets.
    pub utc_offset_minutes: i32,
    /// Share of people running the app.
    pub app_share: f64,
    /// Share of people who check in with the QR code at workplaces and markets.
    pub qr_checkin_share: f64,
    /// Share of people who become cases during the run.
    pub case_share: f64,
    pub household_size: [u32; 2],
    pub work_share: f64,
    /// Every n-th day nobody goes to work (0: no rest day).
    pub rest_day_every: u32,
    pub workplace_size: [u32; 2],
    /// Local hours [start, end) of work.
    pub work_hours_local: [u32; 2],
    /// Share of workers riding a bus to work and back.
    pub bus_share: f64,
    pub people_per_bus_route: u32,
    pub bus_ride_slots: u32,
    pub market_visit_share: f64,
    pub people_per_market: u32,
    pub market_visit_slots: u32,
    pub market_hours_local: [u32; 2],
    pub home_size_m: [f64; 2],
    pub workplace_m2_per_person: f64,
    pub market_m2_per_person: f64,
    pub bus_size_m: [f64; 2],
    /// Ground truth: what "close" means.
    pub close_distance_m: f64,
    /// Beyond this, no scan hears a phone (spares computing what the sensitivity would drop anyway).
    pub radio_range_m: f64,
    pub attenuation_at_1m_db: f64,
    pub path_loss_exponent: f64,
    pub noise_sd_db: f64,
    pub body_loss_max_db: f64,
    pub sensitivity_dbm: f64,
    pub scan_period_seconds: u32,
    pub phones: Vec<PhoneModel>,
}

/// A phone model: how common, what it advertises and how its receiver is off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneModel {
    pub model: String,
    pub share: f64,
    /// Calibrated transmit power, carried in the metadata.
    pub tx_power_dbm: i8,
    /// What its receiver adds to the true RSSI; the rules' calibration for the model cancels it.
    pub rx_bias_db: i16,
}

impl SimulationConfig {
    /// A configuration from JSON, refused when a field is missing or unknown or a value makes no sense.
    pub fn from_json(text: &str) -> Result<SimulationConfig, String> {
        let c: SimulationConfig =
            serde_json::from_str(text).map_err(|e| format!("simulation config: {e}"))?;
        let shares = [
            c.app_share,
            c.qr_checkin_share,
            c.case_share,
            c.work_share,
            c.bus_share,
            c.market_visit_share,
        ];
        let hours_ok = |[a, b]: [u32; 2]| a < b && b <= 24;
        let problems = [
            (
                shares.iter().any(|s| !(0.0..=1.0).contains(s)),
                "a share outside 0..1",
            ),
            (
                c.household_size[0] == 0
                    || c.household_size[0] > c.household_size[1]
                    || c.workplace_size[0] == 0
                    || c.workplace_size[0] > c.workplace_size[1],
                "a size range is empty",
            ),
            (
                !hours_ok(c.work_hours_local) || !hours_ok(c.market_hours_local),
                "hours are not [start, end) within a day",
            ),
            (
                c.scan_period_seconds == 0 || c.scan_period_seconds > 600,
                "scan_period_seconds is not 1..=600",
            ),
            (
                c.people_per_bus_route == 0 || c.people_per_market == 0,
                "people per bus route or market is zero",
            ),
            (
                c.market_visit_slots == 0
                    || c.market_visit_slots * SLOT_MINUTES
                        > (c.market_hours_local[1] - c.market_hours_local[0]).saturating_mul(60),
                "market visits do not fit the market hours",
            ),
            (
                c.phones.is_empty() || c.phones.iter().any(|p| p.share < 0.0),
                "no phone models, or a negative share",
            ),
        ];
        match problems.iter().find(|(bad, _)| *bad) {
            Some((_, why)) => Err(format!("simulation config: {why}")),
            None => Ok(c),
        }
    }

    /// The proximity rules with each simulated model's calibration (the correction cancelling its bias).
    pub fn rules(&self, base: &ProximityRules) -> ProximityRules {
        let mut rules = base.clone();
        rules.calibration = self
            .phones
            .iter()
            .map(|p| Calibration {
                scanner_model: p.model.clone(),
                rssi_correction_db: -p.rx_bias_db,
            })
            .collect();
        rules
    }

    fn day_start_unix(&self, day: u32) -> i64 {
        let midnight = self.start_date.and_time(chrono::NaiveTime::MIN).and_utc();
        midnight.timestamp() + i64::from(day) * 86_400
    }

    /// The UTC slots of local hours [start, end), clipped to the UTC day.
    fn utc_slots(&self, [start, end]: [u32; 2]) -> (u32, u32) {
        let offset = i64::from(self.utc_offset_minutes) / i64::from(SLOT_MINUTES);
        let to_utc = |h: u32| (i64::from(h) * 6 - offset).clamp(0, i64::from(SLOTS)) as u32;
        (to_utc(start), to_utc(end))
    }
}

impl Default for SimulationConfig {
    fn default() -> SimulationConfig {
        SimulationConfig::from_json(DEFAULT_CONFIG).expect("shipped simulation config is valid")
    }
}

/// What a run found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimulationReport {
    pub people: u32,
    pub days: u32,
    pub seed: u64,
    pub phones: u32,
    pub cases: u32,
    pub cases_uploading: u32,
    pub keys_published: u32,
    pub exports: u32,
    pub export_bytes: u64,
    /// What each phone downloads a day: all exports' bytes over the days.
    pub bytes_per_phone_day: f64,
    pub observations: u64,
    pub observations_per_phone_day: f64,
    /// (person, case, day) close contacts between app users, and those the phones matched as close.
    pub exposures_truth: u32,
    pub exposures_matched: u32,
    pub exposures_true_positive: u32,
    pub precision: f64,
    pub recall: f64,
    /// People who were truly close to an infectious case (app or not).
    pub f1_truth: u32,
    /// People the presence log finds, and how many of them are true F1s.
    pub f1_presence: u32,
    pub f1_presence_true: u32,
    /// People whose phone found a close exposure, and how many of them are true F1s.
    pub f1_proximity: u32,
    pub f1_proximity_true: u32,
    /// People both found, and how many of them are true F1s.
    pub f1_both: u32,
    pub f1_both_true: u32,
    /// True F1s found by either.
    pub f1_either_true: u32,
    /// Building a phone-day's observation index and matching the day's keys, averaged.
    pub match_ms_per_phone_day: f64,
    pub scan_period_seconds: u32,
    pub config_version: String,
    pub rules_version: String,
    /// The busiest phone-day's observations, for timing a national day of keys against (not reported).
    #[serde(skip)]
    pub busiest_phone_day: Vec<Observation>,
}

/// Runs the model for `people` over `days` from `seed`. `clock` reads a monotonic clock in nanoseconds (only
/// the timings use it).
pub fn simulate(
    people: u32,
    days: u32,
    seed: u64,
    config: &SimulationConfig,
    rules: &ProximityRules,
    clock: &dyn Fn() -> u64,
) -> Result<SimulationReport, String> {
    if people < 2 || days == 0 || days > rules.key_retention_days {
        return Err(format!(
            "need at least 2 people and 1..={} days",
            rules.key_retention_days
        ));
    }
    let rules = config.rules(rules);
    let province = Province::generate(people, days, seed, config);
    let published = publish(&province, config, seed)?;
    let mut run = Run::new(&province, config, &rules);
    for day in 0..days {
        run.day(day, &published, clock);
    }
    Ok(run.report(&published))
}

/// Stateless random numbers: every draw is a hash of the seed and what it is for, so results do not depend
/// on the order things are computed in.
#[derive(Clone, Copy)]
struct Draw(u64);

impl Draw {
    fn of(self, parts: &[u64]) -> u64 {
        parts.iter().fold(mix(self.0), |acc, &p| {
            mix(acc ^ p.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        })
    }

    fn unit(self, parts: &[u64]) -> f64 {
        (self.of(parts) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(self, n: u32, parts: &[u64]) -> u32 {
        (((self.of(parts) >> 32) * u64::from(n)) >> 32) as u32
    }

    /// Standard normal (Box–Muller).
    fn normal(self, parts: &[u64]) -> f64 {
        let x = self.of(parts);
        let u1 = ((x >> 32) as f64 + 0.5) / 4_294_967_296.0;
        let u2 = (x & 0xffff_ffff) as f64 / 4_294_967_296.0;
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// splitmix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

// What each draw is for.
const HOUSEHOLD: u64 = 1;
const WORK: u64 = 2;
const BUS: u64 = 3;
const APP: u64 = 4;
const MODEL: u64 = 5;
const QR: u64 = 6;
const PHASE: u64 = 7;
const CASE: u64 = 8;
const TEK: u64 = 9;
const MARKET: u64 = 10;
const DEPART: u64 = 11;
const POSITION: u64 = 12;
const BODY: u64 = 13;
const NOISE: u64 = 14;
const SIGNER: u64 = 15;

struct Person {
    household: u32,
    workplace: Option<u32>,
    bus_route: Option<u32>,
    phone: Option<u32>,
    qr: bool,
}

struct Phone {
    person: u32,
    model: usize,
    /// Seconds into each scan period at which this phone scans.
    scan_phase: i64,
    /// Seconds into each ten minutes at which this phone rotates its address and RPI.
    rotation: i64,
}

struct Case {
    person: u32,
    first_infectious_day: u32,
    diagnosed: u32,
}

struct Province {
    draw: Draw,
    days: u32,
    people: Vec<Person>,
    phones: Vec<Phone>,
    cases: Vec<Case>,
    /// The case a person is, if any.
    case_of: HashMap<u32, u32>,
    markets: u32,
}

impl Province {
    fn generate(people: u32, days: u32, seed: u64, c: &SimulationConfig) -> Province {
        let draw = Draw(seed);
        let mut persons = Vec::with_capacity(people as usize);
        let mut phones = Vec::new();
        let (mut household, mut left_in_household) = (0u32, 0u32);
        let (mut workplace, mut left_in_workplace) = (0u32, 0u32);
        let (mut bus_riders, mut households_started) = (0u32, 0u32);
        let model_total: f64 = c.phones.iter().map(|p| p.share).sum();
        for p in 0..people {
            let id = u64::from(p);
            if left_in_household == 0 {
                household = households_started;
                households_started += 1;
                let span = c.household_size[1] - c.household_size[0] + 1;
                left_in_household =
                    c.household_size[0] + draw.below(span, &[HOUSEHOLD, u64::from(household)]);
            }
            left_in_household -= 1;
            let works = draw.unit(&[WORK, id]) < c.work_share;
            let workplace_of = works.then(|| {
                if left_in_workplace == 0 {
                    workplace += 1;
                    let span = c.workplace_size[1] - c.workplace_size[0] + 1;
                    left_in_workplace =
                        c.workplace_size[0] + draw.below(span, &[WORK, u64::from(workplace), 1]);
                }
                left_in_workplace -= 1;
                workplace
            });
            let bus_route = (works && draw.unit(&[BUS, id]) < c.bus_share).then(|| {
                bus_riders += 1;
                bus_riders / c.people_per_bus_route
            });
            let phone = (draw.unit(&[APP, id]) < c.app_share).then(|| {
                let mut pick = draw.unit(&[MODEL, id]) * model_total;
                let model = c
                    .phones
                    .iter()
                    .position(|m| {
                        pick -= m.share;
                        pick < 0.0
                    })
                    .unwrap_or(c.phones.len() - 1);
                phones.push(Phone {
                    person: p,
                    model,
                    scan_phase: i64::from(draw.below(c.scan_period_seconds, &[PHASE, id, 0])),
                    rotation: i64::from(draw.below(INTERVAL_SECONDS as u32, &[PHASE, id, 1])),
                });
                (phones.len() - 1) as u32
            });
            persons.push(Person {
                household,
                workplace: workplace_of,
                bus_route,
                phone,
                qr: draw.unit(&[QR, id]) < c.qr_checkin_share,
            });
        }
        let cases = pick_cases(draw, people, days, c);
        let case_of = cases
            .iter()
            .enumerate()
            .map(|(i, k)| (k.person, i as u32))
            .collect();
        Province {
            draw,
            days,
            people: persons,
            phones,
            cases,
            case_of,
            markets: people.div_ceil(c.people_per_market),
        }
    }

    fn infectious(&self, person: u32, day: u32) -> Option<u32> {
        let &i = self.case_of.get(&person)?;
        let k = self.cases.get(i as usize)?;
        (k.first_infectious_day..=k.diagnosed)
            .contains(&day)
            .then_some(i)
    }

    fn isolated(&self, person: u32, day: u32) -> bool {
        self.case_of
            .get(&person)
            .and_then(|&i| self.cases.get(i as usize))
            .is_some_and(|k| day > k.diagnosed)
    }

    /// A phone's key of a day: the crate's key generation, fed by the seeded draws.
    fn tek(&self, phone: u32, day: u32, c: &SimulationConfig) -> TemporaryExposureKey {
        let start = EnIntervalNumber::from_unix(c.day_start_unix(day));
        TemporaryExposureKey::generate(start, |b| {
            let hi = self.draw.of(&[TEK, u64::from(phone), u64::from(day), 0]);
            let lo = self.draw.of(&[TEK, u64::from(phone), u64::from(day), 1]);
            b[..8].copy_from_slice(&hi.to_le_bytes());
            b[8..].copy_from_slice(&lo.to_le_bytes());
        })
    }
}

/// Distinct people diagnosed on a day of the run (from the second day, so some infectious days are seen),
/// infectious from two days before an onset up to two days before the diagnosis.
fn pick_cases(draw: Draw, people: u32, days: u32, c: &SimulationConfig) -> Vec<Case> {
    let wanted = ((f64::from(people) * c.case_share).round() as u32).clamp(1, people);
    let mut chosen = HashSet::new();
    let mut cases = Vec::new();
    let mut attempt = 0u64;
    while cases.len() < wanted as usize {
        let person = draw.below(people, &[CASE, attempt]);
        attempt += 1;
        if !chosen.insert(person) {
            continue;
        }
        let diagnosed = if days > 1 {
            1 + draw.below(days - 1, &[CASE, attempt, 1])
        } else {
            0
        };
        let onset = diagnosed.saturating_sub(draw.below(3, &[CASE, attempt, 2]));
        cases.push(Case {
            person,
            first_infectious_day: onset.saturating_sub(2),
            diagnosed,
        });
    }
    cases
}

/// The keys the cases with the app uploaded, exported a batch a day, signed, and read back as a phone reads
/// them.
struct Published {
    exports: u32,
    export_bytes: u64,
    keys_published: u32,
    cases_uploading: u32,
    /// The verified keys whose day is each day of the run.
    keys_of_day: Vec<Vec<TemporaryExposureKey>>,
    /// Key bytes → (case, day).
    owner: HashMap<[u8; 16], (u32, u32)>,
}

fn publish(province: &Province, c: &SimulationConfig, seed: u64) -> Result<Published, String> {
    let mut scalar = [0u8; 32];
    for (i, chunk) in scalar.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&Draw(seed).of(&[SIGNER, i as u64]).to_le_bytes());
    }
    let signer = SigningKey::from_slice(&scalar).map_err(|e| format!("signing key: {e}"))?;
    let info = SignatureInfo {
        verification_key_version: "v1".into(),
        verification_key_id: "sim".into(),
        signature_algorithm: ECDSA_P256_SHA256.into(),
    };
    let mut owner = HashMap::new();
    let mut keys_of_day = vec![Vec::new(); province.days as usize];
    let mut out = Published {
        exports: 0,
        export_bytes: 0,
        keys_published: 0,
        cases_uploading: 0,
        keys_of_day: Vec::new(),
        owner: HashMap::new(),
    };
    for upload_day in 0..province.days {
        let mut keys = Vec::new();
        for (i, k) in (0u32..).zip(&province.cases) {
            let phone = province.people.get(k.person as usize).and_then(|p| p.phone);
            let (Some(phone), true) = (phone, k.diagnosed == upload_day) else {
                continue;
            };
            out.cases_uploading += 1;
            for day in k.first_infectious_day..=k.diagnosed {
                let key = province.tek(phone, day, c);
                owner.insert(key.key, (i, day));
                keys.push(key);
            }
        }
        let start = u64::try_from(c.day_start_unix(upload_day)).unwrap_or(0);
        let export = KeyExport {
            start_timestamp: start,
            end_timestamp: start + 86_400,
            region: "sim".into(),
            batch_num: 1,
            batch_size: 1,
            signature_infos: vec![info.clone()],
            keys,
        };
        let zip = build_export(&export, &signer, &info);
        out.exports += 1;
        out.export_bytes += zip.len() as u64;
        let read = read_export(&zip, signer.verifying_key()).map_err(|e| e.to_string())?;
        for key in read.keys {
            out.keys_published += 1;
            if let Some(&(_, day)) = owner.get(&key.key)
                && let Some(list) = keys_of_day.get_mut(day as usize)
            {
                list.push(key);
            }
        }
    }
    out.keys_of_day = keys_of_day;
    out.owner = owner;
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Home,
    Work,
    Market,
    Bus,
}

/// A place at a slot: its kind and which one (a bus is its route and departure).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Place(Kind, u32, u32);

impl Kind {
    /// Slots a person keeps their spot for.
    fn stay_slots(self) -> u32 {
        match self {
            Kind::Home => 6,
            Kind::Work => 18,
            Kind::Market | Kind::Bus => 1,
        }
    }

    /// Where the presence log sees people (QR check-in).
    fn checks_in(self) -> bool {
        matches!(self, Kind::Work | Kind::Market)
    }
}

struct Run<'a> {
    p: &'a Province,
    c: &'a SimulationConfig,
    rules: &'a ProximityRules,
    /// Each person's place at each slot of the day being simulated.
    places: Vec<Place>,
    observations: Vec<Vec<Observation>>,
    /// Each phone's 144 (RPI, AEM) of the day.
    broadcasts: Vec<Vec<(Rpi, [u8; 4])>>,
    truth_minutes: HashMap<(u32, u32), u32>,
    exposures_truth: HashSet<(u32, u32, u32)>,
    exposures_matched: HashSet<(u32, u32, u32)>,
    f1_truth: HashSet<u32>,
    f1_presence: HashSet<u32>,
    f1_proximity: HashSet<u32>,
    observation_count: u64,
    match_ns: u64,
    busiest: Vec<Observation>,
}

impl<'a> Run<'a> {
    fn new(p: &'a Province, c: &'a SimulationConfig, rules: &'a ProximityRules) -> Run<'a> {
        Run {
            p,
            c,
            rules,
            places: Vec::new(),
            observations: vec![Vec::new(); p.phones.len()],
            broadcasts: vec![Vec::new(); p.phones.len()],
            truth_minutes: HashMap::new(),
            exposures_truth: HashSet::new(),
            exposures_matched: HashSet::new(),
            f1_truth: HashSet::new(),
            f1_presence: HashSet::new(),
            f1_proximity: HashSet::new(),
            observation_count: 0,
            match_ns: 0,
            busiest: Vec::new(),
        }
    }

    fn day(&mut self, day: u32, published: &Published, clock: &dyn Fn() -> u64) {
        self.schedule(day);
        self.broadcast(day);
        self.truth_minutes.clear();
        let mut slot_places: Vec<(Place, u32)> = Vec::with_capacity(self.p.people.len());
        for slot in 0..SLOTS {
            slot_places.clear();
            slot_places.extend((0u32..).zip(&self.p.people).filter_map(|(person, _)| {
                let place = *self.places.get((person * SLOTS + slot) as usize)?;
                Some((place, person))
            }));
            slot_places.sort_unstable_by_key(|&(place, person)| (place, person));
            for group in slot_places.chunk_by(|a, b| a.0 == b.0) {
                if group.len() > 1 {
                    self.meet(day, slot, group);
                }
            }
        }
        self.close_day(day);
        self.match_day(day, published, clock);
    }

    /// Everyone's places for the day: home, unless at work, on a bus or at a market.
    fn schedule(&mut self, day: u32) {
        let (c, d) = (self.c, self.p.draw);
        let n = self.p.people.len();
        self.places.clear();
        self.places.reserve(n * SLOTS as usize);
        let (work_from, work_to) = c.utc_slots(c.work_hours_local);
        let (market_from, market_to) = c.utc_slots(c.market_hours_local);
        let rest = c.rest_day_every > 0 && day % c.rest_day_every == c.rest_day_every - 1;
        for (id, person) in (0u32..).zip(&self.p.people) {
            let start = self.places.len();
            self.places.extend(std::iter::repeat_n(
                Place(Kind::Home, person.household, 0),
                SLOTS as usize,
            ));
            if self.p.isolated(id, day) {
                continue;
            }
            let day_slots = &mut self.places[start..];
            let key = [u64::from(id), u64::from(day)];
            if let (Some(w), false) = (person.workplace, rest) {
                fill(day_slots, work_from, work_to, Place(Kind::Work, w, 0));
                if let Some(route) = person.bus_route {
                    // Departures spread over 40 minutes, so each bus carries a part of the route's riders.
                    let ride = c.bus_ride_slots;
                    let early = d.below(4, &[DEPART, key[0], key[1]]);
                    let out = work_from.saturating_sub(ride + early);
                    fill(day_slots, out, out + ride, Place(Kind::Bus, route, out));
                    let back = work_to + early;
                    fill(
                        day_slots,
                        back,
                        back + ride,
                        Place(Kind::Bus, route, SLOTS + back),
                    );
                }
            }
            if d.unit(&[MARKET, key[0], key[1]]) < c.market_visit_share {
                let span = market_to.saturating_sub(market_from + c.market_visit_slots) + 1;
                let from = market_from + d.below(span, &[MARKET, key[0], key[1], 1]);
                let to = from + c.market_visit_slots;
                let free = day_slots
                    .get(from as usize..to.min(SLOTS) as usize)
                    .is_some_and(|s| s.iter().all(|p| p.0 == Kind::Home));
                if free {
                    let market = d.below(self.p.markets, &[MARKET, key[0], key[1], 2]);
                    fill(day_slots, from, to, Place(Kind::Market, market, 0));
                }
            }
        }
    }
}

/// Puts a person at `place` for the slots [from, to) of the day.
fn fill(day_slots: &mut [Place], from: u32, to: u32, place: Place) {
    for s in from.min(SLOTS)..to.min(SLOTS) {
        if let Some(slot) = day_slots.get_mut(s as usize) {
            *slot = place;
        }
    }
}

impl Run<'_> {
    /// Each phone's identifiers of the day with their encrypted metadata.
    fn broadcast(&mut self, day: u32) {
        let start = EnIntervalNumber::from_unix(self.c.day_start_unix(day));
        let mut rpis = Vec::with_capacity(SLOTS as usize);
        for (phone, (out, info)) in (0u32..).zip(self.broadcasts.iter_mut().zip(&self.p.phones)) {
            let tek = self.p.tek(phone, day, self.c);
            RpiGenerator::new(&tek.rpik()).rpis(start, SLOTS, &mut rpis);
            let aem = AemCipher::new(&tek.aemk());
            let tx = self.c.phones.get(info.model).map_or(0, |m| m.tx_power_dbm);
            out.clear();
            out.extend(rpis.iter().map(|r| (*r, aem.encrypt(r, Metadata::v1(tx)))));
        }
    }

    /// The people at one place during one slot: ground truth, the presence log and the phones' scans.
    fn meet(&mut self, day: u32, slot: u32, group: &[(Place, u32)]) {
        let Some(&(place, _)) = group.first() else {
            return;
        };
        let spots: Vec<(f64, f64)> = group
            .iter()
            .map(|&(_, person)| self.spot(place, group.len(), person, day, slot))
            .collect();
        for (i, (&(_, a), pa)) in group.iter().zip(&spots).enumerate() {
            for (&(_, b), pb) in group.iter().zip(&spots).skip(i + 1) {
                let distance = (pa.0 - pb.0).hypot(pa.1 - pb.1);
                for (x, y) in [(a, b), (b, a)] {
                    let Some(case) = self.p.infectious(y, day) else {
                        continue;
                    };
                    if distance <= self.c.close_distance_m {
                        *self.truth_minutes.entry((x, case)).or_default() += SLOT_MINUTES;
                    }
                    let checked_in = |p: u32| self.p.people.get(p as usize).is_some_and(|p| p.qr);
                    if place.0.checks_in() && checked_in(x) && checked_in(y) {
                        self.f1_presence.insert(x);
                    }
                }
                if distance <= self.c.radio_range_m {
                    self.scan(day, slot, a, b, distance);
                    self.scan(day, slot, b, a, distance);
                }
            }
        }
    }

    /// A person's spot at a place: random within its floor, kept for the kind's stay.
    fn spot(&self, place: Place, crowd: usize, person: u32, day: u32, slot: u32) -> (f64, f64) {
        let c = self.c;
        let [w, l] = match place.0 {
            Kind::Home => c.home_size_m,
            Kind::Bus => c.bus_size_m,
            Kind::Work => [(crowd as f64 * c.workplace_m2_per_person).sqrt(); 2],
            Kind::Market => [(crowd as f64 * c.market_m2_per_person).sqrt(); 2],
        };
        let key = [
            POSITION,
            u64::from(person),
            u64::from(day),
            u64::from(slot / place.0.stay_slots()),
        ];
        let d = self.p.draw;
        (
            d.unit(&[key[0], key[1], key[2], key[3], 0]) * w,
            d.unit(&[key[0], key[1], key[2], key[3], 1]) * l,
        )
    }

    /// What `receiver`'s scans during the slot hear of `sender` at `distance`, when both run the app.
    fn scan(&mut self, day: u32, slot: u32, receiver: u32, sender: u32, distance: f64) {
        let person = |p: u32| self.p.people.get(p as usize).and_then(|p| p.phone);
        let (Some(rx), Some(tx)) = (person(receiver), person(sender)) else {
            return;
        };
        let (Some(rx_phone), Some(tx_phone)) = (
            self.p.phones.get(rx as usize),
            self.p.phones.get(tx as usize),
        ) else {
            return;
        };
        let c = self.c;
        let (Some(rx_model), Some(tx_model)) =
            (c.phones.get(rx_phone.model), c.phones.get(tx_phone.model))
        else {
            return;
        };
        let d = self.p.draw;
        let pair = [u64::from(receiver), u64::from(sender)];
        let body =
            d.unit(&[BODY, pair[0], pair[1], u64::from(day), u64::from(slot)]) * c.body_loss_max_db;
        let loss =
            c.attenuation_at_1m_db + 10.0 * c.path_loss_exponent * distance.max(0.1).log10() + body;
        let day_start = c.day_start_unix(day);
        let slot_start = day_start + i64::from(slot) * INTERVAL_SECONDS;
        let period = i64::from(c.scan_period_seconds);
        let mut at = slot_start + (rx_phone.scan_phase - slot_start).rem_euclid(period);
        let Some(heard) = self.broadcasts.get(tx as usize) else {
            return;
        };
        let Some(out) = self.observations.get_mut(rx as usize) else {
            return;
        };
        while at < slot_start + INTERVAL_SECONDS {
            let noise = d.normal(&[NOISE, pair[0], pair[1], at as u64]) * c.noise_sd_db;
            let rssi =
                f64::from(tx_model.tx_power_dbm) - loss + noise + f64::from(rx_model.rx_bias_db);
            // The sender's identifier at `at`: it rotated at its offset in the ten minutes, and at midnight.
            let index = ((at - tx_phone.rotation - day_start).max(0) / INTERVAL_SECONDS) as usize;
            if rssi >= c.sensitivity_dbm
                && let Some(&(rpi, aem)) = heard.get(index)
            {
                out.push(Observation {
                    rpi,
                    aem,
                    rssi_dbm: rssi.round() as i16,
                    at,
                    duration_seconds: c.scan_period_seconds,
                });
            }
            at += period;
        }
    }

    /// The day's true close contacts with infectious cases.
    fn close_day(&mut self, day: u32) {
        let min = self.rules.min_close_minutes;
        for (&(person, case), &minutes) in &self.truth_minutes {
            if minutes < min {
                continue;
            }
            self.f1_truth.insert(person);
            let case_phone = self
                .p
                .cases
                .get(case as usize)
                .and_then(|k| self.p.people.get(k.person as usize))
                .and_then(|p| p.phone);
            let phone = self.p.people.get(person as usize).and_then(|p| p.phone);
            if phone.is_some() && case_phone.is_some() {
                self.exposures_truth.insert((person, case, day));
            }
        }
    }

    /// Every phone matches the day's observations against the published keys of that day.
    fn match_day(&mut self, day: u32, published: &Published, clock: &dyn Fn() -> u64) {
        let keys = published
            .keys_of_day
            .get(day as usize)
            .map_or(&[][..], |k| k);
        for (observations, phone) in self.observations.iter_mut().zip(&self.p.phones) {
            self.observation_count += observations.len() as u64;
            let model = self.c.phones.get(phone.model).map(|m| m.model.as_str());
            let start = clock();
            let exposures = ObservationIndex::new(observations).match_keys(keys, self.rules, model);
            self.match_ns += clock().saturating_sub(start);
            for e in exposures.iter().filter(|e| e.close_contact) {
                if let Some(&(case, key_day)) = published.owner.get(&e.key.key) {
                    self.exposures_matched.insert((phone.person, case, key_day));
                    self.f1_proximity.insert(phone.person);
                }
            }
            if observations.len() > self.busiest.len() {
                self.busiest.clone_from(observations);
            }
            observations.clear();
        }
    }

    fn report(self, published: &Published) -> SimulationReport {
        let phones = self.p.phones.len() as u32;
        let phone_days = f64::from(phones.max(1)) * f64::from(self.p.days);
        let count = |s: &HashSet<u32>| s.len() as u32;
        let true_in = |s: &HashSet<u32>| s.intersection(&self.f1_truth).count() as u32;
        let both: HashSet<u32> = self
            .f1_presence
            .intersection(&self.f1_proximity)
            .copied()
            .collect();
        let either: HashSet<u32> = self
            .f1_presence
            .union(&self.f1_proximity)
            .copied()
            .collect();
        let tp = self
            .exposures_matched
            .intersection(&self.exposures_truth)
            .count() as u32;
        let ratio = |a: u32, b: usize| if b == 0 { 0.0 } else { f64::from(a) / b as f64 };
        SimulationReport {
            people: self.p.people.len() as u32,
            days: self.p.days,
            seed: self.p.draw.0,
            phones,
            cases: self.p.cases.len() as u32,
            cases_uploading: published.cases_uploading,
            keys_published: published.keys_published,
            exports: published.exports,
            export_bytes: published.export_bytes,
            bytes_per_phone_day: published.export_bytes as f64 / f64::from(self.p.days),
            observations: self.observation_count,
            observations_per_phone_day: self.observation_count as f64 / phone_days,
            exposures_truth: self.exposures_truth.len() as u32,
            exposures_matched: self.exposures_matched.len() as u32,
            exposures_true_positive: tp,
            precision: ratio(tp, self.exposures_matched.len()),
            recall: ratio(tp, self.exposures_truth.len()),
            f1_truth: count(&self.f1_truth),
            f1_presence: count(&self.f1_presence),
            f1_presence_true: true_in(&self.f1_presence),
            f1_proximity: count(&self.f1_proximity),
            f1_proximity_true: true_in(&self.f1_proximity),
            f1_both: count(&both),
            f1_both_true: true_in(&both),
            f1_either_true: true_in(&either),
            match_ms_per_phone_day: self.match_ns as f64 / 1e6 / phone_days,
            scan_period_seconds: self.c.scan_period_seconds,
            config_version: self.c.version.clone(),
            rules_version: self.rules.version.clone(),
            busiest_phone_day: self.busiest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_clock() -> u64 {
        0
    }

    fn run(people: u32, days: u32, seed: u64, config: &SimulationConfig) -> SimulationReport {
        simulate(
            people,
            days,
            seed,
            config,
            &ProximityRules::default(),
            &no_clock,
        )
        .unwrap()
    }

    /// Everyone has the app and more people fall ill, so a small run has exposures to find.
    fn dense() -> SimulationConfig {
        SimulationConfig {
            app_share: 1.0,
            case_share: 0.02,
            ..SimulationConfig::default()
        }
    }

    #[test]
    fn shipped_config_loads_and_bad_ones_are_refused() {
        let c = SimulationConfig::default();
        assert!(c.app_share > 0.0 && !c.phones.is_empty());
        assert!(SimulationConfig::from_json("{}").is_err());
        let bad = DEFAULT_CONFIG.replace("\"app_share\": 0.34", "\"app_share\": 1.5");
        assert!(
            SimulationConfig::from_json(&bad)
                .unwrap_err()
                .contains("share")
        );
        let bad =
            DEFAULT_CONFIG.replace("\"scan_period_seconds\": 300", "\"scan_period_seconds\": 0");
        assert!(SimulationConfig::from_json(&bad).is_err());
    }

    #[test]
    fn a_seed_gives_the_same_report() {
        let c = dense();
        let a = run(300, 2, 7, &c);
        assert!(a.observations > 0 && a.exposures_truth > 0, "{a:?}");
        assert_eq!(a, run(300, 2, 7, &c));
        let other = run(300, 2, 8, &c);
        assert_ne!(
            (a.observations, a.exposures_truth),
            (other.observations, other.exposures_truth)
        );
    }

    #[test]
    fn a_small_run_finds_exposures_against_the_truth() {
        let r = run(500, 3, 1, &dense());
        assert_eq!((r.people, r.days, r.phones), (500, 3, 500));
        assert_eq!(r.cases, 10);
        assert!(r.keys_published > 0 && r.keys_published <= r.cases * 3);
        assert!(r.exposures_truth > 0, "{r:?}");
        assert!(r.recall > 0.0 && r.recall <= 1.0, "{r:?}");
        assert!(r.precision > 0.0 && r.precision <= 1.0, "{r:?}");
        assert!(r.exposures_true_positive <= r.exposures_matched.min(r.exposures_truth));
        assert!(r.f1_both <= r.f1_presence.min(r.f1_proximity));
        assert!(r.f1_either_true <= r.f1_truth);
        assert!(r.observations_per_phone_day > 10.0);
        // Three daily exports, each at least the header and a signature.
        assert_eq!(r.exports, 3);
        assert!(r.bytes_per_phone_day > 100.0);
    }

    #[test]
    fn matching_is_timed_with_the_clock_given() {
        let ticks = std::cell::Cell::new(0u64);
        let clock = || {
            ticks.set(ticks.get() + 1_000_000);
            ticks.get()
        };
        let r = simulate(100, 2, 3, &dense(), &ProximityRules::default(), &clock).unwrap();
        // One millisecond per phone-day: each match reads the clock twice, a millisecond apart.
        assert!((r.match_ms_per_phone_day - 1.0).abs() < 1e-9, "{r:?}");
    }

    #[test]
    fn nobody_with_the_app_finds_nothing() {
        let c = SimulationConfig {
            app_share: 0.0,
            ..dense()
        };
        let r = run(300, 2, 1, &c);
        assert_eq!((r.phones, r.observations, r.exposures_matched), (0, 0, 0));
        assert_eq!((r.keys_published, r.f1_proximity), (0, 0));
        assert!(r.f1_truth > 0);
    }

    #[test]
    fn more_days_than_keys_are_kept_are_refused() {
        let c = SimulationConfig::default();
        let rules = ProximityRules::default();
        assert!(simulate(100, 15, 1, &c, &rules, &no_clock).is_err());
        assert!(simulate(1, 1, 1, &c, &rules, &no_clock).is_err());
    }
}
