//! Base45 (RFC 9285) with a lookup table: the decoder is on the hot path of every verification.

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

const DECODE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 45 {
        t[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    t
};

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    for pair in bytes.chunks(2) {
        let (mut n, digits) = match pair {
            [a, b] => (u32::from(*a) * 256 + u32::from(*b), 3),
            [a] => (u32::from(*a), 2),
            _ => unreachable!("chunks of 1 or 2"),
        };
        for _ in 0..digits {
            out.push(ALPHABET[(n % 45) as usize] as char);
            n /= 45;
        }
    }
    out
}

/// Decodes, or None for a character outside the alphabet, a dangling character or a group out of range.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let s = text.as_bytes();
    if s.len() % 3 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 3 * 2 + 1);
    for group in s.chunks(3) {
        let mut n = 0u32;
        for &c in group.iter().rev() {
            let d = DECODE[usize::from(c)];
            if d == 0xff {
                return None;
            }
            n = n * 45 + u32::from(d);
        }
        match group.len() {
            3 if n <= 0xffff => out.extend_from_slice(&[(n >> 8) as u8, n as u8]),
            2 if n <= 0xff => out.push(n as u8),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_9285_examples() {
        for (plain, enc) in [
            ("AB", "BB8"),
            ("Hello!!", "%69 VD92EX0"),
            ("base-45", "UJCLQE7W581"),
            ("ietf!", "QED8WEX0"),
        ] {
            assert_eq!(encode(plain.as_bytes()), enc);
            assert_eq!(decode(enc).unwrap(), plain.as_bytes());
        }
        assert_eq!(decode("GGW"), None, "65535 + 1 is out of range");
        assert_eq!(decode("ZZZ"), None);
        assert_eq!(
            decode("BB"),
            None,
            "506 does not fit the single trailing byte"
        );
        assert_eq!(decode("a00"), None);
        assert_eq!(decode("0000"), None);
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(decode(&encode(&bytes)), Some(bytes));
        }
    }
}
