//! The laboratory's result entry (`/lab`, lab and health staff): scan a sample or pool label with the camera
//! (the QR reader the pass scanner uses, `static/camera.js`) or type it; the page shows whose sample it is;
//! the result and an optional Ct go through the same service as `POST /api/v1/results`. Plain form posts,
//! so that it works without JavaScript; each error stands next to its field.

use super::{Viewer, layout};
use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::services::testing::{self as svc, Entered, IdOrLabel, LABS, LabTarget, ResultInput};
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use kiemdich_domain::TestResult;
use kiemdich_domain::catalogue::{
    Common as C, Lang, Message as _, Problem, Scanner as S, Testing as T,
};
use kiemdich_store::{Effects, Principal};
use maud::{Markup, html};
use serde::Deserialize;

const PATH: &str = "/lab";

/// `GET /lab?label=…` (a label read or typed) and the fields of `POST /lab`.
#[derive(Debug, Default, Deserialize)]
pub struct LabForm {
    #[serde(default)]
    pub label: String,
    pub result: Option<String>,
    pub ct: Option<String>,
    /// When the result was read: set as the form is shown, so that the same form posted twice (a reload, a
    /// double click) is the same result, which changes nothing.
    pub tested_at: Option<String>,
}

/// Where the technician is: finding a label, checking it and entering its result, or done with one.
enum Stage {
    Find {
        label: String,
        error: Option<ApiError>,
    },
    Enter {
        target: LabTarget,
        form: LabForm,
        error: Option<ApiError>,
    },
    Saved {
        target: LabTarget,
        entered: Entered,
    },
}

/// `GET /lab`: the label field, and with `?label=` whose sample it is and the result form.
pub async fn page(State(st): State<AppState>, v: Viewer, Query(q): Query<LabForm>) -> Answer {
    let l = v.lang;
    let who = match v.staff(LABS, l.t(T::LabEntryTitle), PATH) {
        Ok(who) => who,
        Err(page) => return (StatusCode::OK, page),
    };
    let stage = if q.label.trim().is_empty() {
        Stage::Find {
            label: String::new(),
            error: None,
        }
    } else {
        found(&st, &who, q, l).await
    };
    render(&v, stage)
}

/// `POST /lab`: enters the result through [`svc::enter_result`], the service of `POST /api/v1/results`.
pub async fn enter(State(st): State<AppState>, v: Viewer, Form(form): Form<LabForm>) -> Answer {
    let l = v.lang;
    let who = match v.staff(LABS, l.t(T::LabEntryTitle), PATH) {
        Ok(who) => who,
        Err(page) => return (StatusCode::OK, page),
    };
    let target = match svc::lab_target(&st, &who, &form.label, l).await {
        Ok(t) => t,
        Err(e) => {
            return render(
                &v,
                Stage::Find {
                    label: form.label,
                    error: Some(e),
                },
            );
        }
    };
    let tested_at = form.tested_at.clone().unwrap_or_else(read_now);
    let input = ResultInput {
        sample_id: Some(IdOrLabel::Label(target.label.clone())),
        pool_id: None,
        result: form.result.clone().unwrap_or_default(),
        tested_at: tested_at.clone(),
        lab: lab_name(&st, &who),
        ct: form
            .ct
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|c| svc::Number::Text(c.to_owned())),
    };
    let stage = match svc::enter_result(&st, &who, &input).await {
        Ok(entered) => match svc::lab_target(&st, &who, &target.label, l).await {
            Ok(target) => Stage::Saved { target, entered },
            Err(e) => Stage::Find {
                label: String::new(),
                error: Some(e),
            },
        },
        Err(e) => Stage::Enter {
            target,
            form: LabForm {
                tested_at: Some(tested_at),
                ..form
            },
            error: Some(e),
        },
    };
    render(&v, stage)
}

/// Now, as the time a result is read.
fn read_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The label looked up: the result form, or the label field with its error.
async fn found(st: &AppState, who: &Principal, q: LabForm, l: Lang) -> Stage {
    match svc::lab_target(st, who, &q.label, l).await {
        Ok(target) => Stage::Enter {
            target,
            form: LabForm {
                tested_at: Some(read_now()),
                ..q
            },
            error: None,
        },
        Err(e) => Stage::Find {
            label: q.label,
            error: Some(e),
        },
    }
}

/// The laboratory a result is recorded for: the technician's unit, by name.
fn lab_name(st: &AppState, who: &Principal) -> String {
    st.units()
        .get(&who.unit)
        .map_or_else(|| who.unit.to_string(), |u| u.name.clone())
}

/// The page with the status of its refusal (422 a field, 404 a label unknown or outside the jurisdiction), as
/// the API would answer.
type Answer = (StatusCode, Html<String>);

fn render(v: &Viewer, stage: Stage) -> Answer {
    let l = v.lang;
    let status = match &stage {
        Stage::Find { error: Some(e), .. } | Stage::Enter { error: Some(e), .. } => e.status(),
        _ => StatusCode::OK,
    };
    let body = match &stage {
        Stage::Find { label, error } => find_form(l, label, error.as_ref(), true),
        Stage::Enter {
            target,
            form,
            error,
        } => html! {
            (whose(l, target))
            (result_form(l, target, form, error.as_ref()))
            (find_form(l, "", None, false))
        },
        // The confirmation and the next label's field stay together at the top, where the focus lands.
        Stage::Saved { target, entered } => html! {
            (saved(l, target, entered))
            h2 { (l.t(T::LabNext)) }
            (find_form(l, "", None, true))
            (whose(l, target))
        },
    };
    let page = layout(
        v,
        l.t(T::LabEntryTitle),
        PATH,
        body,
        &["app.js", "camera.js", "lab.js"],
    );
    (status, page)
}

/// A field's problems in the page's language, the API's field names read as this page's: the sample or pool
/// is the label field.
fn problems(l: Lang, e: Option<&ApiError>, field: &str) -> Vec<String> {
    let Some(e) = e else { return Vec::new() };
    let mut out: Vec<String> = e
        .fields
        .0
        .iter()
        .filter(|f| page_field(&f.field) == field)
        .map(|f| f.code.text(l).to_owned())
        .collect();
    // A sample or pool unknown or outside the jurisdiction, as entering a result says it.
    if field == "label" && e.code == ErrorCode::NotFound {
        out.push(Problem::UnknownSample.text(l).to_owned());
    }
    out
}

/// Field names of the API as this page names them: the sample or pool is the label field.
fn page_field(f: &str) -> &str {
    match f {
        "sample_id" | "pool_id" => "label",
        other => other,
    }
}

/// A refusal that no field of this page carries (a role, a store failure), in an alert above the form.
fn general(l: Lang, e: Option<&ApiError>) -> Markup {
    let on_fields = |e: &ApiError| {
        e.code == ErrorCode::NotFound
            || (!e.fields.is_empty()
                && e.fields
                    .0
                    .iter()
                    .all(|f| ["label", "result", "ct"].contains(&page_field(&f.field))))
    };
    html! {
        @if let Some(e) = e.filter(|e| !on_fields(e)) {
            div class="alert" role="alert" {
                p { (e.message_in(l)) }
                @for f in &e.fields.0 { p { (f.code.text(l)) } }
            }
        }
    }
}

/// Error paragraphs after a field, and the attributes that tie them to it.
fn field_errors(id: &str, errs: &[String]) -> Markup {
    html! {
        @for (i, m) in errs.iter().enumerate() {
            p class="field-error" id={(id) "-err-" (i)} { (m) }
        }
    }
}

fn described_by(id: &str, errs: &[String]) -> Option<String> {
    (!errs.is_empty()).then(|| {
        (0..errs.len())
            .map(|i| format!("{id}-err-{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// The label field (typed, or filled by the camera), a GET so that the lookup is a link of its own.
fn find_form(l: Lang, label: &str, error: Option<&ApiError>, focus: bool) -> Markup {
    let errs = problems(l, error, "label");
    html! {
        (general(l, error))
        form id="lab-find" class="card" method="get" action=(PATH) {
            label { (l.t(T::LabLabel))
                input id="lab-label" name="label" value=(label) autocomplete="off" spellcheck="false"
                    autocapitalize="characters" required autofocus[focus]
                    aria-invalid=[(!errs.is_empty()).then_some("true")]
                    aria-describedby=[described_by("lab-label", &errs)];
            }
            (field_errors("lab-label", &errs))
            button { (l.t(T::LabFind)) }
            // The camera needs the script: the buttons stay hidden until it shows them.
            button type="button" id="camera-start" class="secondary" hidden { (l.t(S::StartCamera)) }
            button type="button" id="camera-stop" class="secondary" hidden { (l.t(S::StopCamera)) }
            p id="camera-status" role="status" class="muted" {}
            video id="camera" playsinline muted hidden aria-label=(l.t(S::CameraView)) {}
            canvas id="frame" hidden {}
        }
    }
}

/// Whose sample it is: what the technician compares with the tube in hand.
fn whose(l: Lang, t: &LabTarget) -> Markup {
    html! {
        section class="card" aria-labelledby="lab-whose" {
            h2 id="lab-whose" {
                @if t.pool { (l.t(T::LabPool)) " " } @else { (l.t(T::SampleCode)) " " }
                span class="mono" { (t.label) }
            }
            p { (l.t(T::LabCheckPerson)) }
            @if t.pool { h3 { (l.t(T::LabPoolMembers)) } }
            @for s in &t.samples {
                dl class="facts" {
                    dt { (l.t(C::FullName)) } dd class="name" { strong { (s.name) } }
                    dt { (l.t(T::BirthYear)) } dd { (s.birth_year) }
                    dt { (l.t(T::SampleCode)) } dd class="mono" { (s.label) }
                    dt { (l.t(T::TestKind)) } dd { (s.test_name) }
                    dt { (l.t(T::CollectedAt)) } dd { (s.collected_local.as_deref().unwrap_or(l.t(T::NotCollectedYet))) }
                    @if let Some(pool) = s.pool_label.as_deref().filter(|_| !t.pool) {
                        dt { (l.t(T::LabPool)) } dd class="mono" { (pool) }
                    }
                    @if let Some(r) = &s.result {
                        dt { (l.t(T::Result)) } dd { strong { (r.result_name) } " · " (r.lab) " · " (r.tested_local) }
                    }
                }
            }
        }
    }
}

/// The result (plain words) and the optional Ct, posted to `/lab`.
fn result_form(l: Lang, t: &LabTarget, form: &LabForm, error: Option<&ApiError>) -> Markup {
    let label_errs = problems(l, error, "label");
    let result_errs = problems(l, error, "result");
    let ct_errs = problems(l, error, "ct");
    let chosen = form.result.as_deref().unwrap_or_default();
    let choices = [
        (TestResult::Negative, T::LabResultNegative),
        (TestResult::Positive, T::LabResultPositive),
        (TestResult::Invalid, T::LabResultInvalid),
    ];
    html! {
        (general(l, error))
        form id="lab-result" class="card" method="post" action=(PATH) {
            input type="hidden" name="label" value=(t.label);
            @if let Some(at) = &form.tested_at { input type="hidden" name="tested_at" value=(at); }
            (field_errors("lab-target", &label_errs))
            fieldset {
                legend { (l.t(T::Result)) }
                @for (r, text) in choices {
                    label class="check" for={"result-" (r.as_str())} {
                        input type="radio" id={"result-" (r.as_str())} name="result" value=(r.as_str())
                            required checked[chosen == r.as_str()];
                        (l.t(text))
                    }
                }
                (field_errors("lab-result", &result_errs))
            }
            label { (l.t(T::LabCt))
                input id="lab-ct" name="ct" inputmode="decimal" autocomplete="off"
                    value=(form.ct.as_deref().unwrap_or_default())
                    aria-invalid=[(!ct_errs.is_empty()).then_some("true")]
                    aria-describedby=[described_by("lab-ct", &ct_errs)];
            }
            (field_errors("lab-ct", &ct_errs))
            button { (l.t(T::LabSave)) }
        }
    }
}

/// The confirmation: what was stored and what it did, with the slips to print.
fn saved(l: Lang, t: &LabTarget, entered: &Entered) -> Markup {
    let (said, effects): (T, &Effects) = match entered {
        Entered::Created(e) => (T::LabSaved, e),
        Entered::Unchanged(e) => (T::LabSavedBefore, e),
    };
    html! {
        div id="lab-saved" class="alert ok" role="status" {
            p { strong { (l.t(said)) } }
            @if effects.case_id.is_some() { p { (l.t(T::LabCaseOpened)) } }
            @if !effects.resample_ids.is_empty() { p { (l.t(T::LabResamples)) } }
            ul {
                @for s in &t.samples {
                    li { a href={"/samples/" (s.id) "/slip"} { (l.t(T::LabPrintSlip)) " · " (s.name) " · " span class="mono" { (s.label) } } }
                }
            }
        }
    }
}
