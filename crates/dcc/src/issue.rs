//! HC1 issuance: the DCC 1.3.0 vaccination payload from typed input, CWT, COSE_Sign1 ES256, zlib, Base45, `HC1:`.

use crate::Error;
use crate::cert::{CertType, DscSigner};
use chrono::{DateTime, Months, NaiveDate, Utc};
use ciborium::Value as Cbor;
use coset::{CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use p256::ecdsa::signature::Signer;
use std::io::Write;
use unicode_normalization::UnicodeNormalization;

/// The schema version issued.
pub const DCC_VERSION: &str = "1.3.0";

/// The holder: names as written (UTF-8) and date of birth (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`).
#[derive(Debug, Clone)]
pub struct Holder {
    pub family_name: String,
    pub given_name: String,
    pub date_of_birth: String,
}

/// One vaccination entry with EU value-set codes.
#[derive(Debug, Clone)]
pub struct Vaccination {
    /// Disease (`840539006` COVID-19).
    pub tg: String,
    /// Prophylaxis type.
    pub vp: String,
    /// Medicinal product.
    pub mp: String,
    /// Marketing-authorisation holder.
    pub ma: String,
    pub dose_number: u32,
    pub series_doses: u32,
    pub date: NaiveDate,
    /// Country of vaccination (ISO 3166 alpha-2).
    pub country: String,
    /// The issuing authority's name.
    pub issuer: String,
}

/// What issuance returns.
#[derive(Debug, Clone)]
pub struct Issued {
    pub hc1: String,
    pub uvci: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// ICAO 9303 transliteration for `fnt`/`gnt`: diacritics removed (`Đ` → `D`), upper case, spaces and hyphens as
/// `<`, only A–Z and `<` kept, runs of `<` collapsed, at most 80 characters.
pub fn transliterate(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.nfd() {
        let c = match c {
            'Đ' | 'đ' => 'D',
            'Ø' | 'ø' => 'O',
            _ => c,
        };
        let up = c.to_ascii_uppercase();
        if up.is_ascii_uppercase() {
            out.push(up);
        } else if (c.is_whitespace() || c == '-' || c == ',')
            && !out.ends_with('<')
            && !out.is_empty()
        {
            out.push('<');
        }
    }
    while out.ends_with('<') {
        out.pop();
    }
    out.truncate(80);
    out
}

/// The 38 characters of a UVCI's checksum alphabet (Luhn mod N).
const UVCI_ALPHABET: &[u8; 38] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ/:";

/// The Luhn mod N check character over a UVCI without its `URN:UVCI:` prefix, or None for a character outside the
/// alphabet.
pub fn uvci_checksum(uvci: &str) -> Option<char> {
    let body = uvci.strip_prefix("URN:UVCI:").unwrap_or(uvci);
    let n = UVCI_ALPHABET.len();
    let mut factor = 2;
    let mut sum = 0;
    for c in body.bytes().rev() {
        let code = UVCI_ALPHABET.iter().position(|a| *a == c)?;
        let addend = factor * code;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / n + addend % n;
    }
    Some(char::from(UVCI_ALPHABET[(n - sum % n) % n]))
}

/// A new UVCI `URN:UVCI:01:CC:<26 random characters>#<checksum>`.
pub fn new_uvci(country: &str) -> Result<String, Error> {
    const CHARS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut bytes = [0u8; 26];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    let opaque: String = bytes
        .iter()
        .map(|b| char::from(CHARS[usize::from(*b) % CHARS.len()]))
        .collect();
    let body = format!("URN:UVCI:01:{}:{opaque}", country.to_ascii_uppercase());
    let check = uvci_checksum(&body)
        .ok_or_else(|| Error::Input(format!("country {country:?} is not two letters")))?;
    Ok(format!("{body}#{check}"))
}

fn text(s: &str) -> Cbor {
    Cbor::Text(s.to_owned())
}

fn map(entries: Vec<(&str, Cbor)>) -> Cbor {
    Cbor::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}

fn check_input(holder: &Holder, v: &Vaccination, country: &str) -> Result<(), Error> {
    let bad = |m: &str| Err(Error::Input(m.to_owned()));
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return bad("issuer country must be two capital letters");
    }
    if transliterate(&holder.family_name).is_empty() && transliterate(&holder.given_name).is_empty()
    {
        return bad("a name is required");
    }
    if v.dose_number == 0 || v.series_doses == 0 || v.dose_number > 9 || v.series_doses > 9 {
        return bad("dose number and series doses must be 1 to 9");
    }
    for (name, value) in [
        ("tg", &v.tg),
        ("vp", &v.vp),
        ("mp", &v.mp),
        ("ma", &v.ma),
        ("is", &v.issuer),
    ] {
        if value.trim().is_empty() || value.chars().count() > 80 {
            return bad(&format!("{name} must be 1 to 80 characters"));
        }
    }
    if v.country.len() != 2 || !v.country.bytes().all(|b| b.is_ascii_uppercase()) {
        return bad("vaccination country must be two capital letters");
    }
    Ok(())
}

/// Issues an HC1 vaccination certificate for `holder` signed by `signer`, issuer country `country`, at `now`:
/// `exp` is 12 months later but never past the DSC's notAfter. A UVCI is made when `uvci` is None.
pub fn issue(
    signer: &DscSigner,
    holder: &Holder,
    vaccination: &Vaccination,
    country: &str,
    uvci: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Issued, Error> {
    check_input(holder, vaccination, country)?;
    let dsc = signer.dsc();
    if !dsc.allows(CertType::Vaccination) {
        return Err(Error::Input(
            "the DSC may not sign vaccination certificates".into(),
        ));
    }
    if now < dsc.not_before() || now >= dsc.not_after() {
        return Err(Error::Input("the DSC is not valid now".into()));
    }
    let uvci = match uvci {
        Some(u) => u.to_owned(),
        None => new_uvci(country)?,
    };
    let issued_at = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let twelve = issued_at
        .checked_add_months(Months::new(12))
        .ok_or_else(|| Error::Input("date out of range".into()))?;
    let expires_at = twelve.min(dsc.not_after());
    let mut nam = vec![("fnt", text(&transliterate(&holder.family_name)))];
    if !holder.family_name.trim().is_empty() {
        nam.insert(0, ("fn", text(holder.family_name.trim())));
    }
    if !holder.given_name.trim().is_empty() {
        nam.push(("gn", text(holder.given_name.trim())));
        nam.push(("gnt", text(&transliterate(&holder.given_name))));
    }
    let v = vaccination;
    let entry = map(vec![
        ("tg", text(&v.tg)),
        ("vp", text(&v.vp)),
        ("mp", text(&v.mp)),
        ("ma", text(&v.ma)),
        ("dn", Cbor::Integer(v.dose_number.into())),
        ("sd", Cbor::Integer(v.series_doses.into())),
        ("dt", text(&v.date.format("%Y-%m-%d").to_string())),
        ("co", text(&v.country)),
        ("is", text(&v.issuer)),
        ("ci", text(&uvci)),
    ]);
    let dcc = map(vec![
        ("ver", text(DCC_VERSION)),
        ("nam", map(nam)),
        ("dob", text(&holder.date_of_birth)),
        ("v", Cbor::Array(vec![entry])),
    ]);
    // CWT claims: iss (1), iat (6), exp (4), hcert (-260) → {1: DCC}.
    let claims = Cbor::Map(vec![
        (Cbor::Integer(1.into()), text(country)),
        (
            Cbor::Integer(6.into()),
            Cbor::Integer(issued_at.timestamp().into()),
        ),
        (
            Cbor::Integer(4.into()),
            Cbor::Integer(expires_at.timestamp().into()),
        ),
        (
            Cbor::Integer((-260).into()),
            Cbor::Map(vec![(Cbor::Integer(1.into()), dcc)]),
        ),
    ]);
    let mut claims_bytes = Vec::new();
    ciborium::into_writer(&claims, &mut claims_bytes)
        .map_err(|e| Error::Input(format!("CWT: {e}")))?;
    let claims = claims_bytes;
    let hc1 = sign_claims(signer, claims)?;
    let out = Issued {
        hc1,
        uvci,
        issued_at,
        expires_at,
    };
    // The payload must pass the schema of its own version.
    let report_payload = crate::verify::decode_payload(&out.hc1)
        .ok_or_else(|| Error::Input("the certificate does not decode".into()))?;
    crate::schema::for_version(DCC_VERSION)
        .ok_or_else(|| Error::Input("no schema".into()))?
        .1
        .validate(&report_payload)
        .map_err(|e| Error::Input(format!("the payload breaks the schema: {e}")))?;
    Ok(out)
}

/// Signs CWT claims bytes into an `HC1:` string: COSE_Sign1 ES256 with alg and kid protected, zlib, Base45.
pub fn sign_claims(signer: &DscSigner, claims: Vec<u8>) -> Result<String, Error> {
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .key_id(signer.dsc().kid().to_vec())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(claims)
        .create_signature(b"", |data| {
            let sig: p256::ecdsa::Signature = signer.key.sign(data);
            sig.to_bytes().to_vec()
        })
        .build();
    let cose = sign1
        .to_tagged_vec()
        .map_err(|e| Error::Input(format!("COSE: {e}")))?;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&cose)
        .and_then(|_| z.finish())
        .map(|zipped| {
            format!(
                "{}{}",
                crate::verify::PREFIX,
                kiemdich_pass::base45::encode(&zipped)
            )
        })
        .map_err(|e| Error::Input(format!("zlib: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icao_transliteration_of_vietnamese_names() {
        assert_eq!(transliterate("Nguyễn Thị Ánh"), "NGUYEN<THI<ANH");
        assert_eq!(transliterate("Đặng Đức"), "DANG<DUC");
        assert_eq!(transliterate("  Lê-Văn  Ơn "), "LE<VAN<ON");
        assert_eq!(transliterate("Trương Ư"), "TRUONG<U");
        assert_eq!(transliterate("😀"), "");
    }

    #[test]
    fn uvci_checksum_agrees_with_published_examples() {
        // French vectors of the conformance corpus carry this checksum.
        assert_eq!(uvci_checksum("URN:UVCI:01:FR:GGD81AAH16A0"), Some('6'));
        assert_eq!(uvci_checksum("URN:UVCI:01:FR:GGD81AAH16A1"), Some('4'));
        assert_eq!(uvci_checksum("URN:UVCI:01:FR:6P7F35VYGB99"), Some('D'));
        assert_eq!(uvci_checksum("urn:uvci:01"), None);
    }
}
