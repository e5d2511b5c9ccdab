//! A minimal zip: writes stored (uncompressed) entries, reads stored and deflated ones (exports from other GAEN
//! servers are usually deflated). No zip64, encryption or multi-disk archives: such archives are refused.
//! Every read is bounds-checked and every entry's size and CRC-32 checked; nothing panics on bad input.

use std::io::Read;

/// The largest entry the reader inflates: far above any real export (100,000 keys are about 3 MB), far below
/// what would exhaust a phone.
pub const MAX_ENTRY_BYTES: u64 = 64 << 20;

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
/// 1980-01-01, the first date zip can say (the entries' dates carry no meaning here).
const DOS_DATE: u16 = 0x21;

/// Why bytes are not a readable zip.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    #[error("no end-of-central-directory record")]
    NoEnd,
    #[error("the central directory lies outside the file")]
    BadDirectory,
    #[error("entry {0}: a header lies outside the file or has the wrong signature")]
    BadHeader(String),
    #[error("entry {0}: encrypted, zip64 or split archives are not supported")]
    Unsupported(String),
    #[error("entry {0}: compression method {1} is not supported")]
    Method(String, u16),
    #[error("entry {0}: larger than the {MAX_ENTRY_BYTES}-byte limit")]
    TooLarge(String),
    #[error("entry {0}: its data does not inflate to its recorded size")]
    Corrupt(String),
    #[error("entry {0}: CRC-32 mismatch")]
    Crc(String),
    #[error("entry {0} appears twice")]
    Duplicate(String),
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// A zip of stored entries, in the order given.
pub fn write(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let crc = crc32fast::hash(data);
        let offset = out.len() as u32;
        let size = data.len() as u32;
        let name_len = name.len() as u16;
        // Local header.
        out.extend_from_slice(&LOCAL.to_le_bytes());
        for v in [20u16, 0, 0, 0, DOS_DATE] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, size, size] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        // Central directory record.
        central.extend_from_slice(&CENTRAL.to_le_bytes());
        for v in [20u16, 20, 0, 0, 0, DOS_DATE] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, size, size] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [name_len, 0, 0, 0, 0] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let count = entries.len() as u16;
    out.extend_from_slice(&central);
    out.extend_from_slice(&END.to_le_bytes());
    for v in [0u16, 0, count, count] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// The contents of the entry named `name`, `None` when the archive has no such entry.
pub fn read_entry(zip: &[u8], name: &str) -> Result<Option<Vec<u8>>, ZipError> {
    // The end record is 22 bytes plus a comment of up to 65,535: search backwards for its signature.
    let earliest = zip.len().saturating_sub(22 + 0xffff);
    let end = (earliest..=zip.len().saturating_sub(22))
        .rev()
        .find(|&at| u32_at(zip, at) == Some(END))
        .ok_or(ZipError::NoEnd)?;
    let field = |at| u16_at(zip, end + at).ok_or(ZipError::NoEnd);
    let (disk, cd_disk, count) = (field(4)?, field(6)?, field(10)?);
    if disk != 0 || cd_disk != 0 {
        return Err(ZipError::Unsupported(String::new()));
    }
    let cd_offset = u32_at(zip, end + 16).ok_or(ZipError::NoEnd)? as usize;
    let mut at = cd_offset;
    let mut found = None;
    for _ in 0..count {
        if u32_at(zip, at) != Some(CENTRAL) {
            return Err(ZipError::BadDirectory);
        }
        let h = |o: usize| u16_at(zip, at + o).ok_or(ZipError::BadDirectory);
        let w = |o: usize| u32_at(zip, at + o).ok_or(ZipError::BadDirectory);
        let (flags, method) = (h(8)?, h(10)?);
        let (crc, packed, size) = (w(16)?, w(20)?, w(24)?);
        let (name_len, extra_len, comment_len) =
            (h(28)? as usize, h(30)? as usize, h(32)? as usize);
        let local = w(42)? as usize;
        let entry_name = zip
            .get(at + 46..at + 46 + name_len)
            .ok_or(ZipError::BadDirectory)?;
        at += 46 + name_len + extra_len + comment_len;
        if entry_name != name.as_bytes() {
            continue;
        }
        if found.is_some() {
            return Err(ZipError::Duplicate(name.to_owned()));
        }
        let bad = || ZipError::BadHeader(name.to_owned());
        if flags & 1 != 0 || packed == u32::MAX || size == u32::MAX {
            return Err(ZipError::Unsupported(name.to_owned()));
        }
        if u64::from(size) > MAX_ENTRY_BYTES {
            return Err(ZipError::TooLarge(name.to_owned()));
        }
        if u32_at(zip, local) != Some(LOCAL) {
            return Err(bad());
        }
        let local_name = u16_at(zip, local.saturating_add(26)).ok_or_else(bad)? as usize;
        let local_extra = u16_at(zip, local.saturating_add(28)).ok_or_else(bad)? as usize;
        let start = local.saturating_add(30 + local_name + local_extra);
        let data = zip
            .get(start..start.checked_add(packed as usize).ok_or_else(bad)?)
            .ok_or_else(bad)?;
        let content = match method {
            0 => data.to_vec(),
            8 => {
                let mut out = Vec::new();
                flate2::read::DeflateDecoder::new(data)
                    .take(u64::from(size) + 1)
                    .read_to_end(&mut out)
                    .map_err(|_| ZipError::Corrupt(name.to_owned()))?;
                out
            }
            m => return Err(ZipError::Method(name.to_owned(), m)),
        };
        if content.len() != size as usize {
            return Err(ZipError::Corrupt(name.to_owned()));
        }
        if crc32fast::hash(&content) != crc {
            return Err(ZipError::Crc(name.to_owned()));
        }
        found = Some(content);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_entries_round_trip() {
        let z = write(&[("a.txt", b"hello"), ("b.bin", &[0, 1, 2])]);
        assert_eq!(read_entry(&z, "a.txt").unwrap().unwrap(), b"hello");
        assert_eq!(read_entry(&z, "b.bin").unwrap().unwrap(), [0, 1, 2]);
        assert_eq!(read_entry(&z, "c").unwrap(), None);
    }

    #[test]
    fn a_deflated_entry_is_read() {
        use std::io::Write;
        let text = b"EK Export v1    ".repeat(50);
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&text).unwrap();
        let packed = enc.finish().unwrap();
        // A stored zip whose one entry is rewritten as method 8 with the packed data.
        let mut z = write(&[("export.bin", &packed)]);
        let crc = crc32fast::hash(&text).to_le_bytes();
        let size = (text.len() as u32).to_le_bytes();
        let cd = z.len() - 22 - (46 + 10);
        z[8] = 8;
        z[14..18].copy_from_slice(&crc);
        z[22..26].copy_from_slice(&size);
        z[cd + 10] = 8;
        z[cd + 16..cd + 20].copy_from_slice(&crc);
        z[cd + 24..cd + 28].copy_from_slice(&size);
        assert_eq!(read_entry(&z, "export.bin").unwrap().unwrap(), text);
    }

    #[test]
    fn damage_is_an_error() {
        let z = write(&[("export.bin", b"hello")]);
        assert_eq!(read_entry(b"not a zip", "x"), Err(ZipError::NoEnd));
        assert_eq!(read_entry(&[], "x"), Err(ZipError::NoEnd));
        let mut flipped = z.clone();
        flipped[30 + 10] ^= 1;
        assert_eq!(
            read_entry(&flipped, "export.bin"),
            Err(ZipError::Crc("export.bin".into()))
        );
        assert!(read_entry(&z[5..], "export.bin").is_err());
        let twice = write(&[("export.bin", b"a"), ("export.bin", b"b")]);
        assert_eq!(
            read_entry(&twice, "export.bin"),
            Err(ZipError::Duplicate("export.bin".into()))
        );
        // Every truncation is an error or a clean miss, never a panic.
        for n in 0..z.len() {
            let _ = read_entry(&z[..n], "export.bin");
        }
    }
}
