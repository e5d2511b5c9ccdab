//! The little of Protocol Buffers the key export needs: varints, fixed64 and length-delimited fields, written
//! and read by hand (five messages do not justify a code generator). The reader never panics: every malformed
//! input is a [`ProtoError`].

/// Why bytes are not a well-formed message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("the message ends inside a field")]
    Truncated,
    #[error("a varint is longer than 10 bytes")]
    VarintTooLong,
    #[error("field number 0 or beyond the protobuf range")]
    BadFieldNumber,
    #[error("wire type {0} is not supported")]
    WireType(u8),
    #[error("field {0} has the wrong wire type")]
    WrongType(u32),
    #[error("field {0} is out of range")]
    OutOfRange(u32),
    #[error("field {0} is not UTF-8")]
    NotUtf8(u32),
}

/// A message being written.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn tag(&mut self, field: u32, wire: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire));
    }

    /// An `int32` field (negative values take ten bytes, as protobuf sign-extends them).
    pub fn int32(&mut self, field: u32, v: i32) {
        self.tag(field, 0);
        self.varint(i64::from(v) as u64);
    }

    pub fn fixed64(&mut self, field: u32, v: u64) {
        self.tag(field, 1);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn bytes(&mut self, field: u32, v: &[u8]) {
        self.tag(field, 2);
        self.varint(v.len() as u64);
        self.buf.extend_from_slice(v);
    }

    pub fn string(&mut self, field: u32, v: &str) {
        self.bytes(field, v.as_bytes());
    }

    pub fn message(&mut self, field: u32, write: impl FnOnce(&mut Writer)) {
        let mut inner = Writer::default();
        write(&mut inner);
        self.bytes(field, &inner.buf);
    }
}

/// A field's value as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> Value<'a> {
    pub fn int32(self, field: u32) -> Result<i32, ProtoError> {
        match self {
            // int32 is sign-extended to 64 bits on the wire; anything else is out of range.
            Value::Varint(v) => i32::try_from(v as i64).map_err(|_| ProtoError::OutOfRange(field)),
            _ => Err(ProtoError::WrongType(field)),
        }
    }

    pub fn fixed64(self, field: u32) -> Result<u64, ProtoError> {
        match self {
            Value::Fixed64(v) => Ok(v),
            _ => Err(ProtoError::WrongType(field)),
        }
    }

    pub fn bytes(self, field: u32) -> Result<&'a [u8], ProtoError> {
        match self {
            Value::Bytes(v) => Ok(v),
            _ => Err(ProtoError::WrongType(field)),
        }
    }

    pub fn string(self, field: u32) -> Result<String, ProtoError> {
        std::str::from_utf8(self.bytes(field)?)
            .map(str::to_owned)
            .map_err(|_| ProtoError::NotUtf8(field))
    }
}

/// Reads a message field by field.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf }
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first().ok_or(ProtoError::Truncated)?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(ProtoError::VarintTooLong)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtoError> {
        if n > self.buf.len() {
            return Err(ProtoError::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// The next field, or `None` at the end of the message.
    pub fn next_field(&mut self) -> Result<Option<(u32, Value<'a>)>, ProtoError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let tag = self.varint()?;
        let field = u32::try_from(tag >> 3)
            .ok()
            .filter(|f| (1..=536_870_911).contains(f))
            .ok_or(ProtoError::BadFieldNumber)?;
        let value = match (tag & 7) as u8 {
            0 => Value::Varint(self.varint()?),
            1 => {
                let b = self.take(8)?;
                Value::Fixed64(u64::from_le_bytes(
                    b.try_into().map_err(|_| ProtoError::Truncated)?,
                ))
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| ProtoError::Truncated)?;
                Value::Bytes(self.take(n)?)
            }
            5 => {
                let b = self.take(4)?;
                Value::Fixed32(u32::from_le_bytes(
                    b.try_into().map_err(|_| ProtoError::Truncated)?,
                ))
            }
            w => return Err(ProtoError::WireType(w)),
        };
        Ok(Some((field, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let mut w = Writer::default();
        w.int32(1, 150);
        w.int32(2, -1);
        w.fixed64(3, 0x0102_0304_0506_0708);
        w.string(4, "VN");
        w.message(5, |m| m.int32(1, 7));
        // 150 is the protobuf documentation's own example: 08 96 01.
        assert_eq!(&w.buf[..3], &[0x08, 0x96, 0x01]);
        let mut r = Reader::new(&w.buf);
        let mut next = || r.next_field().unwrap().unwrap();
        assert_eq!(next().1.int32(1).unwrap(), 150);
        assert_eq!(next().1.int32(2).unwrap(), -1);
        assert_eq!(next().1.fixed64(3).unwrap(), 0x0102_0304_0506_0708);
        assert_eq!(next().1.string(4).unwrap(), "VN");
        let (f, inner) = next();
        assert_eq!(f, 5);
        let mut inner = Reader::new(inner.bytes(5).unwrap());
        assert_eq!(inner.next_field().unwrap(), Some((1, Value::Varint(7))));
        assert_eq!(r.next_field().unwrap(), None);
    }

    #[test]
    fn malformed_messages_are_errors() {
        assert_eq!(
            Reader::new(&[0x08]).next_field(),
            Err(ProtoError::Truncated)
        );
        assert_eq!(
            Reader::new(&[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ])
            .next_field(),
            Err(ProtoError::VarintTooLong)
        );
        assert_eq!(
            Reader::new(&[0x0a, 0x05, 1]).next_field(),
            Err(ProtoError::Truncated)
        );
        assert_eq!(
            Reader::new(&[0x0b]).next_field(),
            Err(ProtoError::WireType(3))
        );
        assert_eq!(
            Reader::new(&[0x00, 0x00]).next_field(),
            Err(ProtoError::BadFieldNumber)
        );
        assert_eq!(
            Value::Varint(1 << 40).int32(4),
            Err(ProtoError::OutOfRange(4))
        );
        assert_eq!(Value::Varint(1).bytes(4), Err(ProtoError::WrongType(4)));
        assert_eq!(Value::Bytes(&[0xff]).string(3), Err(ProtoError::NotUtf8(3)));
    }
}
