//! Defences every response and request goes through: security headers, a cross-site request check for
//! cookie sessions, an early refusal of oversized bodies, and the public URL that links are built from.

use crate::error::{ApiError, ErrorCode};
use crate::{AppState, MAX_BODY_BYTES};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The address people reach the server at (`https://kiemdich.soctrang.gov.vn`): links printed on posters
/// are built from it, a browser's `Origin` is checked against it, and an `https` one makes cookies `Secure`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    /// `scheme://host[:port]`, lower case, no trailing slash.
    origin: Arc<str>,
    https: bool,
}

impl PublicUrl {
    /// Parses `http(s)://host[:port]` (a trailing `/` is allowed; a path is not, since pages link from `/`).
    pub fn parse(url: &str) -> Result<PublicUrl, String> {
        let bad = |why: &str| format!("public URL {url:?}: {why}");
        let uri: Uri = url.trim().parse().map_err(|_| bad("not a URL"))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad("must start with http:// or https://")),
        };
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("must not hold a user name"));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(bad(
                "must be an origin without a path, e.g. https://kiemdich.example.vn",
            ));
        }
        let scheme = if https { "https" } else { "http" };
        Ok(PublicUrl {
            origin: format!("{scheme}://{}", authority.as_str().to_ascii_lowercase()).into(),
            https,
        })
    }

    /// The default when none is configured: plain HTTP at the address the server listens on.
    pub fn of_addr(addr: std::net::SocketAddr) -> PublicUrl {
        PublicUrl {
            origin: format!("http://{addr}").into(),
            https: false,
        }
    }

    /// `scheme://host[:port]`, to put a path after.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn is_https(&self) -> bool {
        self.https
    }
}

/// What the pages need and nothing more: scripts only from `/static` (no inline script, no `eval`), images
/// (the pass QR, basemap tiles) and fetches from this origin, the scanner's service worker from this origin.
/// `blob:` images are the basemap tiles the `pmtiles` script cuts from the archive this origin serves; only
/// this origin's scripts can make a blob URL.
/// `style-src` allows inline styles: every page carries its style sheet in a `<style>` element so that the
/// offline scanner page renders from its one cached document, and the transmission-chain SVG sizes itself
/// with a `style` attribute. Inline CSS cannot run code; what it could leak needs markup injection, which
/// maud's escaping already prevents.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self' 'unsafe-inline'; img-src 'self' blob:; connect-src 'self'; worker-src 'self'; object-src 'none'; \
base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Headers on every response, whatever produced it.
const SECURITY_HEADERS: [(header::HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// Every request's way in and out, as one layer (each layer of its own cost a boxed future and a clone of the
/// service below it a request, a tenth of the server's time under a scan load): the caller's language for
/// whatever answers, the oversized-body and cross-site refusals, the count in `/metrics`, and the security
/// headers on every answer.
pub(crate) async fn edge(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    let caching = Caching::of(req.uri().path());
    let lang = crate::error::language_of(req.headers());
    let res = crate::error::in_language(lang, async {
        match oversized(&req).or_else(|| cross_site(&st, &req)) {
            Some(refused) => refused,
            None => next.run(req).await,
        }
    })
    .await;
    st.metrics.answered(start, res.status());
    secured(&st, caching, res)
}

/// The security headers alone, for the separate metrics listener.
pub(crate) async fn security_headers(
    State(st): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let caching = Caching::of(req.uri().path());
    secured(&st, caching, next.run(req).await)
}

/// Who may keep an answer: browsers cache `/static` and the public page and its data (`/public`,
/// `/api/v1/public/`) as their handlers say; nothing else (other answers and pages carry personal data and
/// passes, which a shared computer's browser cache must not keep).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caching {
    Static,
    Public,
    Never,
}

impl Caching {
    fn of(path: &str) -> Caching {
        if path.starts_with("/static/") {
            Caching::Static
        } else if path.starts_with("/api/v1/public/") || path == "/public" {
            Caching::Public
        } else {
            Caching::Never
        }
    }
}

/// Adds the security headers; forbids caching as [`Caching`] says (a public answer whose handler set no
/// `Cache-Control` is not cached either); over https, marks every cookie `Secure` and tells browsers to stay
/// on https.
fn secured(st: &AppState, caching: Caching, mut res: Response) -> Response {
    let h = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        h.insert(name, HeaderValue::from_static(value));
    }
    let own_caching = caching == Caching::Public && h.contains_key(header::CACHE_CONTROL);
    if !(caching == Caching::Static || own_caching) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if st.public_url().is_some_and(PublicUrl::is_https) {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
        secure_cookies(h);
    }
    res
}

/// Appends `Secure` to every `Set-Cookie` that lacks it, so that no cookie is ever sent over plain HTTP.
fn secure_cookies(headers: &mut HeaderMap) {
    let cookies: Vec<HeaderValue> = match headers.entry(header::SET_COOKIE) {
        header::Entry::Occupied(e) => e.remove_entry_mult().1.collect(),
        header::Entry::Vacant(_) => return,
    };
    for cookie in cookies {
        let text = cookie.to_str().unwrap_or_default();
        let secure = text
            .split(';')
            .any(|attr| attr.trim().eq_ignore_ascii_case("secure"));
        let value = if secure {
            cookie
        } else {
            HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(cookie)
        };
        headers.append(header::SET_COOKIE, value);
    }
}

/// Where a request comes from, as far as the browser says.
#[derive(Debug, PartialEq, Eq)]
enum Site {
    /// This origin, or typed by the user (`Sec-Fetch-Site: none`).
    Same,
    /// Another origin (including a sibling subdomain), or `Origin: null`.
    Cross,
    /// Neither `Sec-Fetch-Site` nor `Origin`: not a current browser.
    Unknown,
}

/// `Sec-Fetch-Site` when the browser sends it; else whether `Origin` is the request's `Host` or the public URL.
fn site(headers: &HeaderMap, public: Option<&PublicUrl>) -> Site {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(fetch_site) = get(header::HeaderName::from_static("sec-fetch-site")) {
        return match fetch_site {
            "same-origin" | "none" => Site::Same,
            _ => Site::Cross,
        };
    }
    let Some(origin) = get(header::ORIGIN) else {
        return Site::Unknown;
    };
    let host = origin.split_once("://").map(|(_, host)| host);
    let same_host =
        host.is_some_and(|o| get(header::HOST).is_some_and(|h| o.eq_ignore_ascii_case(h)));
    let public = public.is_some_and(|p| origin.eq_ignore_ascii_case(p.origin()));
    if same_host || public {
        Site::Same
    } else {
        Site::Cross
    }
}

/// The refusal of a cross-site request that could ride on a browser's session: an unsafe method without an
/// `Authorization` header (a bearer token is never sent by a browser on its own) that another site sent, or
/// that carries the session cookie with nothing to say where it comes from. `SameSite=Strict` already
/// keeps the cookie off cross-site requests; this also covers sibling subdomains, old browsers, and
/// sign-in or one-time-code requests that a foreign page could fire at residents' expense. Nothing offers
/// CORS, so no legitimate cross-site browser request exists.
fn cross_site(st: &AppState, req: &Request) -> Option<Response> {
    let unsafe_method = !matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    let headers = req.headers();
    if !unsafe_method || headers.contains_key(header::AUTHORIZATION) {
        return None;
    }
    let session =
        crate::auth::cookie(headers, crate::auth::SESSION_COOKIE).is_some_and(|c| !c.is_empty());
    match site(headers, st.public_url()) {
        Site::Same => None,
        Site::Unknown if !session => None,
        Site::Cross | Site::Unknown => Some(refusal(
            req.uri().path(),
            ApiError::forbidden(
                "cross-site request refused: a session cookie is only accepted from this site's own pages",
            )
            .saying(kiemdich_domain::catalogue::ApiText::CrossSite, &[]),
        )),
    }
}

/// The largest body a path takes: the signed decision upload, the FHIR facade's transactions, a scanner's
/// batch, else
/// [`MAX_BODY_BYTES`].
fn body_limit(path: &str) -> usize {
    let upload = path
        .strip_prefix("/api/v1/risk-decisions/")
        .is_some_and(|rest| rest.ends_with("/file"));
    if upload {
        crate::services::risk::MAX_PDF_BYTES
    } else if crate::fhir::is_fhir_path(path) {
        crate::fhir::MAX_BODY_BYTES
    } else if path == "/api/v1/scans/batch" {
        crate::routes::scan_batch::MAX_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

/// A refusal in the form the path answers in: an OperationOutcome on the FHIR facade, else the API's error.
fn refusal(path: &str, e: ApiError) -> Response {
    if crate::fhir::is_fhir_path(path) {
        crate::fhir::FhirError::from(e).into_response()
    } else {
        e.into_response()
    }
}

/// A 413 at once when `Content-Length` announces more than the path's limit ([`body_limit`]), instead of
/// reading (and waiting for) a body that the extractor would refuse anyway.
fn oversized(req: &Request) -> Option<Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = body_limit(req.uri().path());
    declared.is_some_and(|n| n > limit as u64).then(|| {
        refusal(
            req.uri().path(),
            ApiError::new(
                ErrorCode::TooLarge,
                format!("the request body may have at most {limit} bytes"),
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_origins() {
        let u = PublicUrl::parse("https://KiemDich.example.vn/").unwrap();
        assert_eq!(u.origin(), "https://kiemdich.example.vn");
        assert!(u.is_https());
        assert!(
            !PublicUrl::parse("http://127.0.0.1:8080")
                .unwrap()
                .is_https()
        );
        for bad in [
            "kiemdich.example.vn",
            "ftp://x",
            "https://x/app",
            "https://a@x",
            "https://x/?q=1",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_are_compared_with_host_and_public_url() {
        let public = PublicUrl::parse("https://kiemdich.example.vn").unwrap();
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            h
        };
        let same = headers(&[
            ("origin", "http://10.0.0.5:8080"),
            ("host", "10.0.0.5:8080"),
        ]);
        assert_eq!(site(&same, None), Site::Same);
        let proxied = headers(&[
            ("origin", "https://kiemdich.example.vn"),
            ("host", "10.0.0.5:8080"),
        ]);
        assert_eq!(site(&proxied, Some(&public)), Site::Same);
        assert_eq!(site(&proxied, None), Site::Cross);
        let null = headers(&[("origin", "null"), ("host", "10.0.0.5:8080")]);
        assert_eq!(site(&null, Some(&public)), Site::Cross);
        let fetch = headers(&[
            ("sec-fetch-site", "same-site"),
            ("origin", "http://10.0.0.5:8080"),
            ("host", "10.0.0.5:8080"),
        ]);
        assert_eq!(site(&fetch, None), Site::Cross);
        assert_eq!(site(&headers(&[("host", "x")]), None), Site::Unknown);
    }
}
