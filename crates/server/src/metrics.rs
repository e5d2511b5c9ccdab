//! Prometheus metrics: a few counters kept in atomics and rendered as text at `/metrics`.

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

#[derive(Default)]
pub struct Metrics {
    pub requests_2xx: AtomicU64,
    pub requests_4xx: AtomicU64,
    pub requests_5xx: AtomicU64,
    pub request_micros: AtomicU64,
    pub declarations: AtomicU64,
    pub passes_issued: AtomicU64,
    pub verifications_valid: AtomicU64,
    pub verifications_invalid: AtomicU64,
    pub otp_sent: AtomicU64,
    pub otp_failed: AtomicU64,
    pub scans_admitted: AtomicU64,
    pub scans_refused: AtomicU64,
    /// Pass checks of a scan answered from the book (no signature, no read), and those verified in full.
    pub pass_checks_held: AtomicU64,
    pub pass_checks_verified: AtomicU64,
    pub presence_purged: AtomicU64,
    /// Rows the retention purge deleted besides presence events.
    pub purged_visits: AtomicU64,
    pub purged_traces: AtomicU64,
    pub purged_messages: AtomicU64,
    pub purged_codes: AtomicU64,
}

impl Metrics {
    /// Counts what one retention purge deleted.
    pub fn purged(&self, p: &kiemdich_store::Purged) {
        for (counter, n) in [
            (&self.presence_purged, p.events),
            (&self.purged_visits, p.visits),
            (&self.purged_traces, p.traces + p.zone_marks),
            (&self.purged_messages, p.messages),
            (&self.purged_codes, p.codes),
        ] {
            counter.fetch_add(n, Relaxed);
        }
    }
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// Counts an answer by its class, and the time since `start` it took.
    pub(crate) fn answered(&self, start: Instant, status: axum::http::StatusCode) {
        self.request_micros
            .fetch_add(start.elapsed().as_micros() as u64, Relaxed);
        Metrics::inc(match status.as_u16() {
            500.. => &self.requests_5xx,
            400.. => &self.requests_4xx,
            _ => &self.requests_2xx,
        });
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut line = |name: &str, help: &str, kind: &str, samples: &[(&str, &AtomicU64)]| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for (labels, v) in samples {
                out.push_str(&format!("{name}{labels} {}\n", v.load(Relaxed)));
            }
        };
        line(
            "kiemdich_http_requests_total",
            "HTTP requests by status class.",
            "counter",
            &[
                ("{class=\"2xx\"}", &self.requests_2xx),
                ("{class=\"4xx\"}", &self.requests_4xx),
                ("{class=\"5xx\"}", &self.requests_5xx),
            ],
        );
        line(
            "kiemdich_http_request_duration_microseconds_total",
            "Time spent serving requests.",
            "counter",
            &[("", &self.request_micros)],
        );
        line(
            "kiemdich_declarations_total",
            "Declarations stored.",
            "counter",
            &[("", &self.declarations)],
        );
        line(
            "kiemdich_passes_issued_total",
            "Passes signed and stored.",
            "counter",
            &[("", &self.passes_issued)],
        );
        line(
            "kiemdich_pass_verifications_total",
            "Online pass verifications by result.",
            "counter",
            &[
                ("{result=\"valid\"}", &self.verifications_valid),
                ("{result=\"invalid\"}", &self.verifications_invalid),
            ],
        );
        line(
            "kiemdich_otp_sent_total",
            "One-time codes sent.",
            "counter",
            &[("", &self.otp_sent)],
        );
        line(
            "kiemdich_otp_failures_total",
            "Wrong, expired or locked one-time codes.",
            "counter",
            &[("", &self.otp_failed)],
        );
        line(
            "kiemdich_scans_total",
            "Pass scans stored, by decision.",
            "counter",
            &[
                ("{decision=\"admit\"}", &self.scans_admitted),
                ("{decision=\"refuse\"}", &self.scans_refused),
            ],
        );
        line(
            "kiemdich_scan_pass_checks_total",
            "Pass checks of scans, by path: from the book of live passes, or signature and database.",
            "counter",
            &[
                ("{path=\"book\"}", &self.pass_checks_held),
                ("{path=\"verified\"}", &self.pass_checks_verified),
            ],
        );
        line(
            "kiemdich_presence_purged_total",
            "Presence events deleted after the retention period.",
            "counter",
            &[("", &self.presence_purged)],
        );
        line(
            "kiemdich_retention_purged_total",
            "Other rows deleted after the retention period, by kind.",
            "counter",
            &[
                ("{kind=\"visits\"}", &self.purged_visits),
                ("{kind=\"traces\"}", &self.purged_traces),
                ("{kind=\"messages\"}", &self.purged_messages),
                ("{kind=\"codes\"}", &self.purged_codes),
            ],
        );
        out
    }
}

/// The Prometheus text exposition of the counters, and of the pass book's size.
pub(crate) fn exposition(st: &AppState) -> Response {
    let mut text = st.metrics.render();
    let (passes, bytes) = st.store.book_size();
    for (name, help, value) in [
        (
            "kiemdich_pass_book_passes",
            "Live passes held in memory for scans.",
            passes,
        ),
        (
            "kiemdich_pass_book_bytes",
            "Bytes the pass book's entries take.",
            bytes,
        ),
        (
            "kiemdich_pass_book_ready",
            "1 once the pass book is loaded (scans of its passes read nothing), else 0.",
            usize::from(st.store.book_ready()),
        ),
    ] {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// `/metrics` alone, without a token, for the separate metrics listener (`--metrics-bind`), which is meant
/// for a private address that only Prometheus reaches.
pub(crate) fn open_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(st): State<AppState>| async move { exposition(&st) }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::hardening::security_headers,
        ))
        .with_state(state)
}
