//! The DSC trust list an HC1 verifier accepts: certificates parsed once, indexed by kid.

use crate::Error;
use crate::cert::{Dsc, kid_of};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One entry of the JSON trust list: base64 kid and base64 DER certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustEntry {
    pub kid: String,
    pub certificate: String,
}

/// The JSON shape `{"certificates": [{"kid", "certificate"}]}` (the deployment's answer and imported foreign lists).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustListJson {
    pub certificates: Vec<TrustEntry>,
}

/// Trusted DSCs with their kids. A kid may name more than one certificate (kids are 8 bytes and may collide).
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    dscs: Vec<(Vec<u8>, Dsc)>,
    by_kid: HashMap<Vec<u8>, Vec<usize>>,
}

fn unb64(s: &str) -> Result<Vec<u8>, Error> {
    let compact: String = s.split_whitespace().collect();
    STANDARD
        .decode(&compact)
        .or_else(|_| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(compact.trim_end_matches('='))
        })
        .map_err(|e| Error::TrustList(format!("bad base64: {e}")))
}

impl TrustList {
    pub fn new() -> TrustList {
        TrustList::default()
    }

    /// Adds a DSC under its computed kid (first 8 bytes of SHA-256 of its DER).
    pub fn add(&mut self, dsc: Dsc) {
        let kid = dsc.kid().to_vec();
        self.add_with_kid(kid, dsc);
    }

    /// Adds a DSC under the kid a list names for it.
    pub fn add_with_kid(&mut self, kid: Vec<u8>, dsc: Dsc) {
        self.by_kid
            .entry(kid.clone())
            .or_default()
            .push(self.dscs.len());
        self.dscs.push((kid, dsc));
    }

    /// Parses `{"certificates": [{"kid", "certificate"}]}`; an entry without a kid gets its computed one. Every
    /// certificate must parse: a list with a bad entry is refused whole, naming the entry.
    pub fn from_json(text: &str) -> Result<TrustList, Error> {
        #[derive(Deserialize)]
        struct Entry {
            #[serde(default)]
            kid: Option<String>,
            certificate: String,
        }
        #[derive(Deserialize)]
        struct List {
            certificates: Vec<Entry>,
        }
        let list: List = serde_json::from_str(text).map_err(|e| Error::TrustList(e.to_string()))?;
        let mut out = TrustList::new();
        for (i, e) in list.certificates.iter().enumerate() {
            let der = unb64(&e.certificate)
                .map_err(|err| Error::TrustList(format!("certificates[{i}]: {err}")))?;
            let dsc = Dsc::from_der(&der)
                .map_err(|err| Error::TrustList(format!("certificates[{i}]: {err}")))?;
            let kid = match &e.kid {
                Some(k) => unb64(k)
                    .map_err(|err| Error::TrustList(format!("certificates[{i}].kid: {err}")))?,
                None => kid_of(&der).to_vec(),
            };
            out.add_with_kid(kid, dsc);
        }
        Ok(out)
    }

    /// The list as JSON, with standard base64.
    pub fn to_json(&self) -> TrustListJson {
        TrustListJson {
            certificates: self
                .dscs
                .iter()
                .map(|(kid, d)| TrustEntry {
                    kid: STANDARD.encode(kid),
                    certificate: STANDARD.encode(d.der()),
                })
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.dscs.len()
    }

    /// Whether `other` trusts the same certificates under the same kids, in the same order: a list rebuilt from
    /// unchanged data, which the caller may drop for this one and keep its signers' prepared verification tables.
    pub fn same_certificates(&self, other: &TrustList) -> bool {
        self.dscs.len() == other.dscs.len()
            && self
                .dscs
                .iter()
                .zip(&other.dscs)
                .all(|((k1, d1), (k2, d2))| k1 == k2 && d1.der() == d2.der())
    }

    pub fn is_empty(&self) -> bool {
        self.dscs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Dsc> {
        self.dscs.iter().map(|(_, d)| d)
    }

    /// Each DSC with the kid it is listed under.
    pub fn entries(&self) -> impl Iterator<Item = (&[u8], &Dsc)> {
        self.dscs.iter().map(|(k, d)| (k.as_slice(), d))
    }

    /// The DSCs to try for a kid: those listed under it, or every one when the HC1 names no kid.
    pub(crate) fn candidates<'a>(
        &'a self,
        kid: Option<&[u8]>,
    ) -> Box<dyn Iterator<Item = &'a Dsc> + 'a> {
        match kid {
            None => Box::new(self.iter()),
            Some(k) => Box::new(
                self.by_kid
                    .get(k)
                    .into_iter()
                    .flatten()
                    .map(|i| &self.dscs[*i].1),
            ),
        }
    }
}
