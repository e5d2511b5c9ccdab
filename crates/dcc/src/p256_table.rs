//! ECDSA P-256 verification with a fixed-base table per signer key.
//!
//! A verifier checks many certificates against a few document signers, so each signer's public key `Q` is prepared
//! once (lazily, on its first signature) into a table of multiples `j·2^(8i)·Q` (j = 1…128, i = 0…32: 4,224
//! points, 264 KiB), as the generator `G` is. `u1·G + u2·Q` is then at most 66 mixed additions and no doubling, where
//! a general verifier (ring) runs a doubling chain for `Q` on every signature. This is key preparation, not a cache
//! of results: every signature is checked in full. The additions use the Jacobian mixed-addition formula over a Montgomery field of
//! four 64-bit limbs (7M + 4S, no constant-time selects: a signature check handles only public data, as in every
//! ECDSA verifier); the rare sums the formula cannot do (a point plus itself or its negation) go to the `p256`
//! crate's complete formulas.

use p256::elliptic_curve::group::Curve;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::{Field, PrimeField};
use p256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// Bits per signed digit: digits lie in −128…128. Measured against 6 and 7 bits (fewer, smaller entries but more
/// additions): 8 was fastest over the EU vectors, whose 445 signers' tables do not fit in the caches.
const WIDTH: usize = 8;
const HALF: usize = 1 << (WIDTH - 1);
/// Windows of a 256-bit scalar, the last absorbing the final carry.
const WINDOWS: usize = 256 / WIDTH + 1;

/// An element of GF(p), p = 2^256 − 2^224 + 2^192 + 2^96 − 1, in Montgomery form (x·2^256 mod p), little-endian
/// limbs, always fully reduced.
type Fe = [u64; 4];

const P: Fe = [u64::MAX, 0x0000_0000_ffff_ffff, 0, 0xffff_ffff_0000_0001];
/// 2^256 − p: subtracting it adds p modulo 2^256.
const NEG_P: Fe = [1, 0xffff_ffff_0000_0000, u64::MAX, 0x0000_0000_ffff_fffe];
/// The group order n.
const N: Fe = [
    0xf3b9_cac2_fc63_2551,
    0xbce6_faad_a717_9e84,
    u64::MAX,
    0xffff_ffff_0000_0000,
];
/// 2^512 mod p: multiplying by it enters the Montgomery form.
const R2: Fe = [
    3,
    0xffff_fffb_ffff_ffff,
    0xffff_ffff_ffff_fffe,
    0x0000_0004_ffff_fffd,
];
/// 2^256 mod p (= 2^256 − p): one in Montgomery form.
const ONE: Fe = NEG_P;

/// a − b over 256 bits, and whether it borrowed.
fn sub_raw(a: &Fe, b: &Fe) -> (Fe, bool) {
    let mut out = [0; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(u64::from(borrow));
        out[i] = d;
        borrow = b1 | b2;
    }
    (out, borrow)
}

fn add(a: &Fe, b: &Fe) -> Fe {
    let mut sum = [0; 4];
    let mut carry = false;
    for i in 0..4 {
        let (s, c1) = a[i].overflowing_add(b[i]);
        let (s, c2) = s.overflowing_add(u64::from(carry));
        sum[i] = s;
        carry = c1 | c2;
    }
    let (reduced, borrow) = sub_raw(&sum, &P);
    if carry || !borrow { reduced } else { sum }
}

fn sub(a: &Fe, b: &Fe) -> Fe {
    let (d, borrow) = sub_raw(a, b);
    if borrow {
        // d is a − b + 2^256; adding p carries out of 256 bits exactly once.
        let (back, _) = sub_raw(&d, &NEG_P);
        back
    } else {
        d
    }
}

/// a + b over 256 bits, `None` when it carries out.
fn add_raw(a: &Fe, b: &Fe) -> Option<Fe> {
    let mut out = [0; 4];
    let mut carry = 0u64;
    for i in 0..4 {
        let s = u128::from(a[i]) + u128::from(b[i]) + u128::from(carry);
        out[i] = s as u64;
        carry = (s >> 64) as u64;
    }
    (carry == 0).then_some(out)
}

/// Montgomery reduction of a 512-bit t: t·2^−256 mod p. Each step clears the lowest limb m by adding m·p, whose
/// limbs are (−1, 2^32 − 1, 0, 2^64 − 2^32 + 1): the first two fold into one shifted add, the third is nothing, so one
/// limb product is left per step.
#[inline(always)]
fn reduce(mut t: [u64; 8]) -> Fe {
    let mut hi = 0u64;
    for i in 0..4 {
        let m = u128::from(t[i]);
        // t[i] + m·(2^64 − 1) = m·2^64 carries m; with m·(2^32 − 1) beside it, limb i+1 gains m·2^32.
        let s = u128::from(t[i + 1]) + (m << 32);
        t[i + 1] = s as u64;
        let s = u128::from(t[i + 2]) + (s >> 64);
        t[i + 2] = s as u64;
        let s = u128::from(t[i + 3]) + m * u128::from(P[3]) + (s >> 64);
        t[i + 3] = s as u64;
        // The carry out of limb i+4 belongs to limb i+5, which is the next step's limb i+4.
        let s = u128::from(t[i + 4]) + (s >> 64) + u128::from(hi);
        t[i + 4] = s as u64;
        hi = (s >> 64) as u64;
    }
    let r = [t[4], t[5], t[6], t[7]];
    let (reduced, borrow) = sub_raw(&r, &P);
    if hi != 0 || !borrow { reduced } else { r }
}

/// a·b·2^−256 mod p.
fn mul(a: &Fe, b: &Fe) -> Fe {
    let mut t = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0u64;
        for j in 0..4 {
            let uv = u128::from(t[i + j]) + u128::from(a[i]) * u128::from(b[j]) + u128::from(carry);
            t[i + j] = uv as u64;
            carry = (uv >> 64) as u64;
        }
        t[i + 4] = carry;
    }
    reduce(t)
}

/// a²·2^−256 mod p: the cross products once and doubled, 10 limb products instead of 16.
fn square(a: &Fe) -> Fe {
    let mut t = [0u64; 8];
    for i in 0..3 {
        let mut carry = 0u64;
        for j in i + 1..4 {
            let uv = u128::from(t[i + j]) + u128::from(a[i]) * u128::from(a[j]) + u128::from(carry);
            t[i + j] = uv as u64;
            carry = (uv >> 64) as u64;
        }
        t[i + 4] = carry;
    }
    let mut shifted = 0u64;
    for limb in &mut t {
        let next = *limb >> 63;
        *limb = (*limb << 1) | shifted;
        shifted = next;
    }
    let mut carry = 0u128;
    for i in 0..4 {
        let sq = u128::from(a[i]) * u128::from(a[i]);
        let lo = u128::from(t[2 * i]) + (sq & u128::from(u64::MAX)) + carry;
        t[2 * i] = lo as u64;
        let hi = u128::from(t[2 * i + 1]) + (sq >> 64) + (lo >> 64);
        t[2 * i + 1] = hi as u64;
        carry = hi >> 64;
    }
    reduce(t)
}

/// A big-endian 32-byte integer as little-endian limbs.
fn limbs(b: &FieldBytes) -> Fe {
    let mut out = [0u64; 4];
    for (i, chunk) in b.chunks_exact(8).rev().enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        out[i] = u64::from_be_bytes(word);
    }
    out
}

/// An integer below p into Montgomery form.
fn to_montgomery(x: &Fe) -> Fe {
    mul(x, &R2)
}

fn from_bytes(b: &FieldBytes) -> Fe {
    to_montgomery(&limbs(b))
}

/// An affine point (x, y) in Montgomery form.
type Affine = [Fe; 2];

/// A point in Jacobian coordinates (X/Z², Y/Z³); `None` is the point at infinity.
type Jacobian = Option<[Fe; 3]>;

/// The Jacobian mixed addition (madd-2007-bl); `None` when the two points have the same x (the formula divides by
/// their difference), so the caller takes the complete path.
fn add_mixed(acc: &mut Jacobian, q: &Affine) -> Option<()> {
    let Some([x1, y1, z1]) = acc else {
        *acc = Some([q[0], q[1], ONE]);
        return Some(());
    };
    let z1z1 = square(z1);
    let u2 = mul(&q[0], &z1z1);
    let s2 = mul(&q[1], &mul(z1, &z1z1));
    let h = sub(&u2, x1);
    if h == [0; 4] {
        return None;
    }
    let hh = square(&h);
    let i = add(&add(&hh, &hh), &add(&hh, &hh));
    let j = mul(&h, &i);
    let s = sub(&s2, y1);
    let r = add(&s, &s);
    let v = mul(x1, &i);
    let x3 = sub(&sub(&square(&r), &j), &add(&v, &v));
    let y1j = mul(y1, &j);
    let y3 = sub(&mul(&r, &sub(&v, &x3)), &add(&y1j, &y1j));
    let z1h = add(z1, &h);
    let z3 = sub(&sub(&square(&z1h), &z1z1), &hh);
    *acc = Some([x3, y3, z3]);
    Some(())
}

/// A table entry on a cache line of its own: a verification reads one entry per window, scattered over the table.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Entry(Affine);

/// `entries[i·HALF + j − 1] = j·2^(WIDTH·i)·P`, and P itself for the complete path.
pub(crate) struct Table {
    point: AffinePoint,
    entries: Box<[Entry]>,
}

impl Table {
    pub(crate) fn new(p: &AffinePoint) -> Table {
        let mut rows = Vec::with_capacity(WINDOWS * HALF);
        let mut base = ProjectivePoint::from(*p);
        for _ in 0..WINDOWS {
            let mut multiple = base;
            for _ in 0..HALF {
                rows.push(multiple);
                multiple += base;
            }
            // The next row's base is 2^WIDTH·base, twice the last pushed.
            let last = rows[rows.len() - 1];
            base = last + last;
        }
        let mut affine = vec![AffinePoint::IDENTITY; rows.len()];
        ProjectivePoint::batch_normalize(&rows, &mut affine);
        let entries = affine
            .iter()
            .map(|a| Entry([from_bytes(&a.x()), from_bytes(&a.y())]))
            .collect();
        Table { point: *p, entries }
    }

    /// The entry for `digit` in `window` (before any negation), and whether the digit is negative.
    fn entry(&self, window: usize, digit: i16) -> Option<(Affine, bool)> {
        let j = usize::from(digit.unsigned_abs()).checked_sub(1)?;
        Some((self.entries[window * HALF + j].0, digit < 0))
    }
}

/// The signed digits of `k` in base 2^WIDTH, least significant first.
fn digits(k: &Scalar) -> [i16; WINDOWS] {
    let mut bytes = k.to_repr();
    bytes.reverse(); // little-endian
    let mut out = [0i16; WINDOWS];
    let mut carry = 0i16;
    for (d, byte) in out.iter_mut().zip(bytes.iter().chain([&0])) {
        // v ≤ 256 (all ones plus a carry); digits above HALF borrow from the next window.
        let v = i16::from(*byte) + carry;
        (*d, carry) = if v > HALF as i16 {
            (v - (1 << WIDTH), 1)
        } else {
            (v, 0)
        };
    }
    out
}

static GENERATOR: LazyLock<Table> = LazyLock::new(|| Table::new(&AffinePoint::GENERATOR));

/// `u1·G + u2·Q` by the tables; `None` when a sum needs the complete formulas.
fn lincomb(table: &Table, u1: &Scalar, u2: &Scalar) -> Option<Jacobian> {
    let (d1, d2) = (digits(u1), digits(u2));
    // Every entry is read before the first addition: the reads do not depend on each other, so the cache misses of
    // a signer's table (cold when many signers are in use) overlap instead of stalling each addition in turn.
    let mut picks = [([[0u64; 4]; 2], false); 2 * WINDOWS];
    let mut n = 0;
    for i in 0..WINDOWS {
        for pick in [GENERATOR.entry(i, d1[i]), table.entry(i, d2[i])]
            .into_iter()
            .flatten()
        {
            picks[n] = pick;
            n += 1;
        }
    }
    let mut acc = None;
    for ([x, y], negative) in &picks[..n] {
        let y = if *negative { sub(&[0; 4], y) } else { *y };
        add_mixed(&mut acc, &[*x, y])?;
    }
    Some(acc)
}

/// Whether the x coordinate of `u1·G + u2·Q`, reduced mod n, is r.
fn x_matches(table: &Table, u1: &Scalar, u2: &Scalar, r: &Scalar) -> bool {
    match lincomb(table, u1, u2) {
        Some(None) => false,
        // x = X/Z² ≡ r (mod n) with x < p < 2n: x is r or, when r + n < p, r + n; compared as X = x·Z².
        Some(Some([x, _, z])) => {
            let zz = square(&z);
            let r = limbs(&r.to_repr());
            let r_plus_n = add_raw(&r, &N).filter(|sum| sub_raw(sum, &P).1);
            [Some(r), r_plus_n]
                .into_iter()
                .flatten()
                .any(|candidate| mul(&to_montgomery(&candidate), &zz) == x)
        }
        None => {
            let sum = (ProjectivePoint::GENERATOR * u1 + ProjectivePoint::from(table.point) * u2)
                .to_affine();
            !bool::from(sum.is_identity()) && <Scalar as Reduce<FieldBytes>>::reduce(&sum.x()) == *r
        }
    }
}

/// Whether `sig` (r‖s, 64 bytes) is the ECDSA P-256 signature of SHA-256(`msg`) under the key of `table`.
pub(crate) fn verify(table: &Table, msg: &[u8], sig: &[u8]) -> bool {
    let Ok(sig) = <&[u8; 64]>::try_from(sig) else {
        return false;
    };
    let scalar = |b: &[u8]| {
        let repr = FieldBytes::try_from(b).ok()?;
        Option::<Scalar>::from(Scalar::from_repr(repr)).filter(|s| !bool::from(s.is_zero()))
    };
    let (Some(r), Some(s)) = (scalar(&sig[..32]), scalar(&sig[32..])) else {
        return false;
    };
    let e = <Scalar as Reduce<FieldBytes>>::reduce(&Sha256::digest(msg));
    let Some(s_inv) = Option::<Scalar>::from(s.invert_vartime()) else {
        return false;
    };
    x_matches(table, &(e * s_inv), &(r * s_inv), &r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;
    use p256::ecdsa::{Signature, SigningKey};

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&Sha256::digest([seed])).expect("a valid scalar")
    }

    #[test]
    fn agrees_with_the_p256_crate_on_good_and_bad_signatures() {
        for seed in 0..24u8 {
            let signer = key(seed);
            let table = Table::new(signer.verifying_key().as_affine());
            let msg = [seed; 70];
            let sig: Signature = signer.sign(&msg);
            let bytes = sig.to_bytes();
            assert!(verify(&table, &msg, &bytes), "seed {seed}");
            assert!(!verify(&table, b"another message", &bytes), "seed {seed}");
            let mut flipped = bytes;
            flipped[40] ^= 1;
            assert!(!verify(&table, &msg, &flipped), "seed {seed}");
            let other = Table::new(key(seed.wrapping_add(100)).verifying_key().as_affine());
            assert!(!verify(&other, &msg, &bytes), "seed {seed}");
        }
    }

    #[test]
    fn refuses_out_of_range_and_short_signatures() {
        let signer = key(1);
        let table = Table::new(signer.verifying_key().as_affine());
        let msg = b"m";
        let sig: Signature = signer.sign(msg);
        let bytes = sig.to_bytes();
        assert!(!verify(&table, msg, &bytes[..63]));
        let mut zero_r = bytes;
        zero_r[..32].fill(0);
        assert!(!verify(&table, msg, &zero_r));
        let mut big_s = bytes;
        big_s[32..].fill(0xff); // ≥ n
        assert!(!verify(&table, msg, &big_s));
    }

    #[test]
    fn a_sum_of_equal_points_takes_the_complete_path() {
        // Q = G and u1 = u2 = 5: the first window adds 5·G twice, which the mixed addition cannot do.
        let table = Table::new(&AffinePoint::GENERATOR);
        let k = Scalar::from(5u64);
        assert!(lincomb(&table, &k, &k).is_none());
        let sum = (ProjectivePoint::GENERATOR * (k + k)).to_affine();
        let r = <Scalar as Reduce<FieldBytes>>::reduce(&sum.x());
        assert!(x_matches(&table, &k, &k, &r));
        assert!(!x_matches(&table, &k, &k, &(r + Scalar::ONE)));
    }

    #[test]
    fn field_arithmetic_round_trips() {
        let a = limbs(&Sha256::digest(b"a"));
        let a = sub_raw(&a, &P).0.min(a); // below p either way for this input
        let m = to_montgomery(&a);
        assert_eq!(mul(&m, &[1, 0, 0, 0]), a);
        assert_eq!(mul(&m, &ONE), m);
        assert_eq!(sub(&add(&m, &ONE), &ONE), m);
        assert_eq!(add(&sub(&[0; 4], &m), &m), [0; 4]);
        let p_minus_one = sub_raw(&P, &[1, 0, 0, 0]).0;
        for x in [m, ONE, p_minus_one, [u64::MAX, 0, 0, 0], [0, 0, 0, 1 << 63]] {
            assert_eq!(square(&x), mul(&x, &x), "{x:x?}");
        }
        // (p − 1)² = 1 (mod p): in Montgomery form, square(R·(p−1)) = R.
        assert_eq!(square(&to_montgomery(&p_minus_one)), ONE);
    }

    #[test]
    fn digits_recompose_the_scalar() {
        for seed in 0..50u8 {
            let k = <Scalar as Reduce<FieldBytes>>::reduce(&Sha256::digest([seed, 7]));
            let mut sum = Scalar::ZERO;
            let mut weight = Scalar::ONE;
            for d in digits(&k) {
                let j = Scalar::from(u64::from(d.unsigned_abs()));
                sum += if d < 0 { -(j * weight) } else { j * weight };
                weight *= Scalar::from(1u64 << WIDTH);
            }
            assert_eq!(sum, k, "seed {seed}");
        }
    }
}
