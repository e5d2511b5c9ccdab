//! A small strict CBOR reader for the verification hot path: definite lengths only, no allocation, every
//! length checked against the input before use. General-purpose CBOR (encoding) stays with ciborium/coset.

/// Why input could not be read: not well-formed CBOR, or well-formed but not the expected item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CborError {
    Malformed,
    Unexpected,
}

const MAX_DEPTH: u32 = 8;

pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub fn at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CborError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or(CborError::Malformed)?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// The initial byte's major type and its argument.
    fn head(&mut self) -> Result<(u8, u64), CborError> {
        let b = self.take(1)?[0];
        let info = b & 0x1f;
        let arg = match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.take(1)?[0]),
            25 => u64::from(u16::from_be_bytes(
                self.take(2)?.try_into().expect("2 bytes"),
            )),
            26 => u64::from(u32::from_be_bytes(
                self.take(4)?.try_into().expect("4 bytes"),
            )),
            27 => u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")),
            _ => return Err(CborError::Malformed), // indefinite lengths and reserved values
        };
        Ok((b >> 5, arg))
    }

    fn expect(&mut self, major: u8) -> Result<u64, CborError> {
        match self.head()? {
            (m, arg) if m == major => Ok(arg),
            _ => Err(CborError::Unexpected),
        }
    }

    fn len(arg: u64) -> Result<usize, CborError> {
        usize::try_from(arg).map_err(|_| CborError::Malformed)
    }

    pub fn tag(&mut self) -> Result<u64, CborError> {
        self.expect(6)
    }

    pub fn array(&mut self) -> Result<usize, CborError> {
        Self::len(self.expect(4)?)
    }

    pub fn map(&mut self) -> Result<usize, CborError> {
        Self::len(self.expect(5)?)
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], CborError> {
        let n = Self::len(self.expect(2)?)?;
        self.take(n)
    }

    pub fn text(&mut self) -> Result<&'a str, CborError> {
        let n = Self::len(self.expect(3)?)?;
        std::str::from_utf8(self.take(n)?).map_err(|_| CborError::Malformed)
    }

    /// An integer of major type 0 or 1 that fits i64.
    pub fn int(&mut self) -> Result<i64, CborError> {
        match self.head()? {
            (0, n) => i64::try_from(n).map_err(|_| CborError::Unexpected),
            (1, n) => i64::try_from(n)
                .map(|n| -1 - n)
                .map_err(|_| CborError::Unexpected),
            _ => Err(CborError::Unexpected),
        }
    }

    /// Skips one well-formed item of any type.
    pub fn skip(&mut self) -> Result<(), CborError> {
        self.skip_at(0)
    }

    fn skip_at(&mut self, depth: u32) -> Result<(), CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::Unexpected);
        }
        let (major, arg) = self.head()?;
        match major {
            0 | 1 | 7 => Ok(()),
            2 | 3 => self.take(Self::len(arg)?).map(drop),
            4 => (0..arg).try_for_each(|_| self.skip_at(depth + 1)),
            5 => (0..arg).try_for_each(|_| {
                self.skip_at(depth + 1)
                    .and_then(|_| self.skip_at(depth + 1))
            }),
            _ => self.skip_at(depth + 1), // a tag and its item
        }
    }
}

/// Appends the head of a byte string of length `n`.
pub(crate) fn write_bytes_head(out: &mut Vec<u8>, n: usize) {
    match n {
        0..=23 => out.push(0x40 | n as u8),
        24..=0xff => out.extend_from_slice(&[0x58, n as u8]),
        0x100..=0xffff => {
            out.push(0x59);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(0x5a);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_heads_of_every_width_and_refuses_what_it_must() {
        let mut r = Reader::new(&[0x18, 0xff, 0x39, 0x01, 0x00, 0x3a, 0x00, 0x01, 0x00, 0x00]);
        assert_eq!(r.int(), Ok(255));
        assert_eq!(r.int(), Ok(-257));
        assert_eq!(r.int(), Ok(-65537));
        assert!(r.at_end());
        assert_eq!(
            Reader::new(&[0x5f]).bytes(),
            Err(CborError::Malformed),
            "indefinite length"
        );
        assert_eq!(
            Reader::new(&[0x5a, 0xff, 0xff, 0xff, 0xff]).bytes(),
            Err(CborError::Malformed),
            "length past the end"
        );
        assert_eq!(Reader::new(&[0x01]).bytes(), Err(CborError::Unexpected));
        assert_eq!(
            Reader::new(&[0x1b, 0xff, 0, 0, 0, 0, 0, 0, 0]).int(),
            Err(CborError::Unexpected),
            "does not fit i64"
        );
        assert_eq!(
            Reader::new(&[0x62, 0xff, 0xfe]).text(),
            Err(CborError::Malformed),
            "not UTF-8"
        );
        let nested = [0x81; 20];
        assert_eq!(
            Reader::new(&nested).skip(),
            Err(CborError::Unexpected),
            "depth is bounded"
        );
    }

    #[test]
    fn byte_string_heads_match_ciborium() {
        for n in [0usize, 23, 24, 255, 256, 70_000] {
            let mut ours = Vec::new();
            write_bytes_head(&mut ours, n);
            ours.extend(std::iter::repeat_n(7u8, n));
            let mut theirs = Vec::new();
            ciborium::into_writer(&ciborium::Value::Bytes(vec![7; n]), &mut theirs).unwrap();
            assert_eq!(ours, theirs, "{n}");
        }
    }
}
