//! Synthetic but plausible people for the demo province and the benchmarks: Kinh, Khmer and Hoa family names
//! as found in Sóc Trăng, valid citizen ids, birth dates, phones, spread over the communes. Deterministic for
//! a seed, so a demo re-run reproduces the same province.

use kiemdich_domain::person::RawRegistryRow;

/// SplitMix64: tiny, fast and good enough for test data (not for secrets).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// Repeats approximate the frequency of the commonest family names.
const FAMILY: &[&str] = &[
    "Nguyễn", "Nguyễn", "Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Huỳnh",
    "Võ", "Phan", "Trương", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Thạch", "Thạch",
    "Sơn", "Kim", "Danh", "Lâm", "Quách", "Triệu",
];
const MIDDLE_M: &[&str] = &[
    "Văn", "Văn", "Hữu", "Minh", "Quốc", "Thanh", "Công", "Đức", "Hoàng",
];
const MIDDLE_F: &[&str] = &["Thị", "Thị", "Ngọc", "Thanh", "Kim", "Mỹ", "Bích", "Thu"];
const GIVEN_M: &[&str] = &[
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hải",
    "Hùng",
    "Khang",
    "Long",
    "Nam",
    "Phúc",
    "Quang",
    "Tài",
    "Thành",
    "Tuấn",
    "Vinh",
    "Sà Rết",
];
const GIVEN_F: &[&str] = &[
    "Anh", "Chi", "Dung", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Ngân", "Nhung",
    "Phương", "Thảo", "Trang", "Vy", "Yến", "Sa Ly",
];
const STREETS: &[&str] = &[
    "Trần Hưng Đạo",
    "Lê Lợi",
    "Hùng Vương",
    "Phú Lợi",
    "Mạc Đĩnh Chi",
    "Nguyễn Văn Linh",
    "Lý Thường Kiệt",
    "ấp Phước Hòa",
    "ấp Châu Thành",
    "khóm 3",
];

/// The `i`-th synthetic person. Citizen ids are unique for `i` below 96 million.
pub fn person(rng: &mut Rng, i: u64, communes: &[String]) -> RawRegistryRow {
    let female = rng.below(2) == 1;
    let year = 1935 + rng.below(86) as i32;
    let (middle, given) = if female {
        (MIDDLE_F, GIVEN_F)
    } else {
        (MIDDLE_M, GIVEN_M)
    };
    let g = (year / 100 - 19) * 2 + i32::from(female);
    let province = 94 + (i / 1_000_000) % 96;
    let province = if province > 96 {
        province - 96
    } else {
        province
    };
    RawRegistryRow {
        citizen_id: format!("{province:03}{g}{:02}{:06}", year % 100, i % 1_000_000),
        full_name: format!(
            "{} {} {}",
            rng.pick(FAMILY),
            rng.pick(middle),
            rng.pick(given)
        ),
        date_of_birth: format!("{year}-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
        sex: if female { "F" } else { "M" }.into(),
        commune_code: rng.pick(communes).clone(),
        address: format!("{} {}", 1 + rng.below(300), rng.pick(STREETS)),
        phone: if rng.below(10) == 0 {
            String::new()
        } else {
            format!("09{:08}", rng.below(100_000_000))
        },
        household_id: String::new(),
    }
}

/// The synthetic registry of a seed, person after person, in households: the demo loads it and the
/// benchmarks declare against it, so both take it from here.
pub fn registry(seed: u64, communes: &[String]) -> impl Iterator<Item = RawRegistryRow> + '_ {
    let mut rng = Rng::new(seed);
    let mut households = Households::default();
    (0..).map(move |i| {
        let mut p = person(&mut rng, i, communes);
        households.place(&mut rng, i, &mut p);
        p
    })
}

/// Groups consecutive people into households of 1 to 6 that share a household id, a commune, an address
/// and, mostly, a family name, as the registry records families.
#[derive(Default)]
pub struct Households {
    home: Option<RawRegistryRow>,
    left: u64,
}

impl Households {
    /// Puts person `i` into the current household, starting a new one (headed by this person) when it is full.
    pub fn place(&mut self, rng: &mut Rng, i: u64, p: &mut RawRegistryRow) {
        match &self.home {
            Some(home) if self.left > 0 => {
                p.household_id = home.household_id.clone();
                p.commune_code = home.commune_code.clone();
                p.address = home.address.clone();
                if rng.below(4) != 0
                    && let (Some((family, _)), Some((_, rest))) =
                        (home.full_name.split_once(' '), p.full_name.split_once(' '))
                {
                    p.full_name = format!("{family} {rest}");
                }
            }
            _ => {
                p.household_id = format!("HK{i:08}");
                self.left = 1 + rng.below(6);
                self.home = Some(p.clone());
            }
        }
        self.left -= 1;
    }
}

/// A random password for generated accounts.
pub fn password() -> String {
    let mut b = [0u8; 12];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    b.iter()
        .map(|x| ALPHABET[usize::from(*x) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiemdich_domain::RegistryRecord;
    use std::collections::HashSet;

    #[test]
    fn households_hold_one_to_six_people_of_one_commune() {
        let communes = vec!["31498".to_string(), "31569".to_string()];
        let mut rng = Rng::new(3);
        let mut households = Households::default();
        let mut members: std::collections::HashMap<String, Vec<RawRegistryRow>> =
            Default::default();
        for i in 0..2_000 {
            let mut p = person(&mut rng, i, &communes);
            households.place(&mut rng, i, &mut p);
            RegistryRecord::parse(&p).unwrap();
            members.entry(p.household_id.clone()).or_default().push(p);
        }
        let sizes: HashSet<usize> = members.values().map(Vec::len).collect();
        assert_eq!(sizes, (1..=6).collect());
        for people in members.values() {
            assert!(
                people
                    .iter()
                    .all(|p| p.commune_code == people[0].commune_code)
            );
        }
    }

    #[test]
    fn synthetic_people_are_valid_and_unique() {
        let communes = vec!["31498".to_string(), "31569".to_string()];
        let mut rng = Rng::new(7);
        let mut ids = HashSet::new();
        for i in (0..5_000).chain(1_999_990..2_000_010) {
            let raw = person(&mut rng, i, &communes);
            let rec = RegistryRecord::parse(&raw).unwrap_or_else(|e| panic!("{raw:?}: {e}"));
            assert!(
                ids.insert(rec.citizen_id),
                "duplicate id {}",
                rec.citizen_id
            );
        }
    }
}
