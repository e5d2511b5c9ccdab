//! A basemap under the maps, for a deployment that has one: the maps work without it, from the boundaries alone.
//! Either tiles from the deployment's own tile server on this site's origin (the pages' content policy loads
//! images from nowhere else), or a local PMTiles archive that kiemdich serves itself at [`PMTILES_PATH`] with
//! HTTP range requests, which the vendored `pmtiles` script reads tile by tile.

use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::PathBuf;

/// Where the archive is served.
pub const PMTILES_PATH: &str = "/basemap.pmtiles";
/// The most one range request reads (a PMTiles client asks for a header, directories and single tiles).
const MAX_RANGE: u64 = 16 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A tile path template on this site: `/tiles/{z}/{x}/{y}.png`.
    Tiles(String),
    /// A local PMTiles (v3) archive.
    Pmtiles(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basemap {
    pub source: Source,
    /// What the basemap's licence asks the map to say.
    pub attribution: String,
}

impl Basemap {
    /// Tiles at a path on this origin with the `{z}`, `{x}` and `{y}` of a tile.
    pub fn tiles(url: &str, attribution: &str) -> Result<Basemap, String> {
        if !url.starts_with('/') || url.starts_with("//") {
            return Err(format!(
                "basemap {url:?}: give a path on this site (such as /tiles/{{z}}/{{x}}/{{y}}.png), served by the same reverse proxy"
            ));
        }
        if !["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p)) {
            return Err(format!(
                "basemap {url:?}: the path needs {{z}}, {{x}} and {{y}}"
            ));
        }
        Ok(Basemap {
            source: Source::Tiles(url.to_owned()),
            attribution: attribution.to_owned(),
        })
    }

    /// A PMTiles archive on disk, checked to be one (its first bytes are `PMTiles` and version 3).
    pub fn pmtiles(path: PathBuf, attribution: &str) -> Result<Basemap, String> {
        let mut magic = [0u8; 8];
        std::fs::File::open(&path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .map_err(|e| format!("basemap {}: {e}", path.display()))?;
        if &magic[..7] != b"PMTiles" || magic[7] != 3 {
            return Err(format!(
                "basemap {}: not a PMTiles version 3 archive",
                path.display()
            ));
        }
        Ok(Basemap {
            source: Source::Pmtiles(path),
            attribution: attribution.to_owned(),
        })
    }

    /// What the page's script loads: a tile template, or the archive's address.
    pub fn url(&self) -> &str {
        match &self.source {
            Source::Tiles(url) => url,
            Source::Pmtiles(_) => PMTILES_PATH,
        }
    }

    pub fn is_pmtiles(&self) -> bool {
        matches!(self.source, Source::Pmtiles(_))
    }
}

/// The bytes `Range: bytes=START-END` asks of a file of `len` bytes (a single range; `START-` to the end,
/// `-N` the last N bytes), or why it cannot be served.
pub fn byte_range(range: &str, len: u64) -> Result<std::ops::RangeInclusive<u64>, String> {
    let spec = range
        .trim()
        .strip_prefix("bytes=")
        .ok_or_else(|| format!("not a byte range: {range}"))?;
    if spec.contains(',') {
        return Err("one range at a time".into());
    }
    let (start, end) = spec
        .split_once('-')
        .ok_or_else(|| format!("not a byte range: {range}"))?;
    let number = |s: &str| s.trim().parse::<u64>().map_err(|e| format!("{s:?}: {e}"));
    let (start, end) = match (start.trim(), end.trim()) {
        ("", "") => return Err(format!("not a byte range: {range}")),
        ("", last) => (len.saturating_sub(number(last)?), len.saturating_sub(1)),
        (first, "") => (number(first)?, len.saturating_sub(1)),
        (first, last) => (number(first)?, number(last)?.min(len.saturating_sub(1))),
    };
    if len == 0 || start > end || start >= len {
        return Err(format!("{range} lies outside {len} bytes"));
    }
    if end - start + 1 > MAX_RANGE {
        return Err(format!("{range} is more than {MAX_RANGE} bytes"));
    }
    Ok(start..=end)
}

/// `GET /basemap.pmtiles`: the archive by range (206), or 404 when the deployment has none.
pub async fn pmtiles_file(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let Some(Source::Pmtiles(path)) = st.basemap().map(|b| b.source.clone()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("bytes=0-")
        .to_owned();
    let read = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
        let mut file = std::fs::File::open(&path)?;
        let len = file.metadata()?.len();
        let wanted = match byte_range(&range, len) {
            Ok(r) => r,
            Err(why) => return Ok(Err((why, len))),
        };
        file.seek(SeekFrom::Start(*wanted.start()))?;
        let mut body = Vec::new();
        file.take(wanted.end() - wanted.start() + 1)
            .read_to_end(&mut body)?;
        Ok(Ok((wanted, len, body)))
    })
    .await;
    match read {
        Ok(Ok(Ok((wanted, len, body)))) => (
            StatusCode::PARTIAL_CONTENT,
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (header::ACCEPT_RANGES, "bytes".to_owned()),
                (
                    header::CONTENT_RANGE,
                    format!("bytes {}-{}/{len}", wanted.start(), wanted.end()),
                ),
                (header::CACHE_CONTROL, "public, max-age=3600".to_owned()),
            ],
            body,
        )
            .into_response(),
        Ok(Ok(Err((why, len)))) => (
            StatusCode::RANGE_NOT_SATISFIABLE,
            [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            why,
        )
            .into_response(),
        Ok(Err(e)) => crate::error::ApiError::internal(e).into_response(),
        Err(e) => crate::error::ApiError::internal(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tile_basemap_is_a_path_on_this_site() {
        assert!(Basemap::tiles("/tiles/{z}/{x}/{y}.png", "© Sở TN&MT").is_ok());
        for bad in [
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            "//tiles.example/{z}/{x}/{y}.png",
            "/tiles/basemap.png",
        ] {
            assert!(Basemap::tiles(bad, "").is_err(), "{bad}");
        }
    }

    #[test]
    fn a_pmtiles_basemap_must_be_an_archive() {
        let dir = std::env::temp_dir().join(format!("kd-basemap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let good = dir.join("good.pmtiles");
        std::fs::write(&good, b"PMTiles\x03rest of the header").expect("write");
        let bad = dir.join("bad.pmtiles");
        std::fs::write(&bad, b"PK\x03\x04 a zip").expect("write");
        let basemap = Basemap::pmtiles(good, "OSM").expect("an archive");
        assert_eq!(basemap.url(), PMTILES_PATH);
        assert!(Basemap::pmtiles(bad, "").is_err());
        assert!(Basemap::pmtiles(dir.join("missing"), "").is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn ranges_are_read_as_clients_send_them() {
        assert_eq!(byte_range("bytes=0-16383", 100_000), Ok(0..=16_383));
        assert_eq!(byte_range("bytes=99990-", 100_000), Ok(99_990..=99_999));
        assert_eq!(byte_range("bytes=-10", 100_000), Ok(99_990..=99_999));
        assert_eq!(
            byte_range("bytes=10-200000", 100_000),
            Ok(10..=99_999),
            "clamped to the file"
        );
        for bad in [
            "bytes=200000-",
            "bytes=5-1",
            "items=0-1",
            "bytes=0-1,5-6",
            "bytes=-",
            "bytes=a-b",
        ] {
            assert!(byte_range(bad, 100_000).is_err(), "{bad}");
        }
        assert!(
            byte_range("bytes=0-", 100_000_000).is_err(),
            "no more than 16 MiB at once"
        );
    }
}
