//! A lean JSON Schema (2020-12) validator for exactly the keywords the EU DCC schemas 1.0.0–1.3.2 use: `$ref` to
//! `#/$defs/…`, `type`, `properties`, `required`, `items`, `minItems`, `maxItems`, `maxLength`, `minimum`, `maximum`,
//! `pattern`, `oneOf`, `anyOf`; annotations (`format`, `title`, `description`, …) are ignored as the draft says.
//! Any other keyword fails closed when the schema is compiled. Schemas compile once, on first use.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The released schema versions embedded in the crate (Apache-2.0, see schemas/LICENSE).
const SCHEMAS: [(&str, &str); 8] = [
    ("1.0.0", include_str!("../schemas/1.0.0.json")),
    ("1.0.1", include_str!("../schemas/1.0.1.json")),
    ("1.1.0", include_str!("../schemas/1.1.0.json")),
    ("1.2.0", include_str!("../schemas/1.2.0.json")),
    ("1.2.1", include_str!("../schemas/1.2.1.json")),
    ("1.3.0", include_str!("../schemas/1.3.0.json")),
    ("1.3.1", include_str!("../schemas/1.3.1.json")),
    ("1.3.2", include_str!("../schemas/1.3.2.json")),
];

/// Keywords that only annotate.
const ANNOTATIONS: [&str; 8] = [
    "$comment",
    "$id",
    "$schema",
    "description",
    "examples",
    "title",
    "format",
    "valueset-uri",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    String,
    Integer,
    Number,
    Object,
    Array,
    Boolean,
    Null,
}

#[derive(Debug, Default)]
struct Node {
    ty: Option<Type>,
    properties: Vec<(String, usize)>,
    required: Vec<String>,
    items: Option<usize>,
    min_items: Option<usize>,
    max_items: Option<usize>,
    max_length: Option<usize>,
    min_length: Option<usize>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    pattern: Option<Pattern>,
    one_of: Vec<usize>,
    any_of: Vec<usize>,
    reference: Option<usize>,
}

/// A `pattern` (ECMA-262 syntax, unanchored as the draft says) compiled to a DFA.
#[derive(Debug)]
struct Pattern {
    source: String,
    dfa: regex_automata::dfa::regex::Regex,
}

impl Pattern {
    fn new(source: &str) -> Result<Pattern, String> {
        Ok(Pattern {
            source: source.to_owned(),
            dfa: regex_automata::dfa::regex::Regex::new(&ascii_classes(source))
                .map_err(|e| e.to_string())?,
        })
    }

    fn is_match(&self, s: &str) -> bool {
        self.dfa.is_match(s)
    }
}

/// ECMA-262's `\d` and `\w` (and their negations) are ASCII classes, where this engine's are Unicode: spelled out.
fn ascii_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some(other) => {
                out.push(c);
                out.push(other);
            }
            None => out.push(c),
        }
    }
    out
}

/// One compiled schema: nodes in an arena, `$defs` resolved to indices.
#[derive(Debug)]
pub struct Schema {
    nodes: Vec<Node>,
    root: usize,
}

struct Compiler<'a> {
    defs: HashMap<&'a str, usize>,
    defs_json: &'a serde_json::Map<String, Value>,
    nodes: Vec<Node>,
}

impl<'a> Compiler<'a> {
    fn compile(&mut self, v: &'a Value, at: &str) -> Result<usize, String> {
        let obj = v
            .as_object()
            .ok_or_else(|| format!("{at}: schema is not an object"))?;
        let mut node = Node::default();
        for (k, val) in obj {
            let here = format!("{at}/{k}");
            let uint = |v: &Value| {
                v.as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| format!("{here}: not a count"))
            };
            match k.as_str() {
                "type" => {
                    node.ty = Some(match val.as_str() {
                        Some("string") => Type::String,
                        Some("integer") => Type::Integer,
                        Some("number") => Type::Number,
                        Some("object") => Type::Object,
                        Some("array") => Type::Array,
                        Some("boolean") => Type::Boolean,
                        Some("null") => Type::Null,
                        _ => return Err(format!("{here}: unsupported type {val}")),
                    })
                }
                "properties" => {
                    let props = val
                        .as_object()
                        .ok_or_else(|| format!("{here}: not an object"))?;
                    for (name, sub) in props {
                        let id = self.compile(sub, &format!("{here}/{name}"))?;
                        node.properties.push((name.clone(), id));
                    }
                }
                "required" => {
                    for r in val
                        .as_array()
                        .ok_or_else(|| format!("{here}: not an array"))?
                    {
                        node.required.push(
                            r.as_str()
                                .ok_or_else(|| format!("{here}: not a string"))?
                                .to_owned(),
                        );
                    }
                }
                "items" => node.items = Some(self.compile(val, &here)?),
                "minItems" => node.min_items = Some(uint(val)?),
                "maxItems" => node.max_items = Some(uint(val)?),
                "maxLength" => node.max_length = Some(uint(val)?),
                "minLength" => node.min_length = Some(uint(val)?),
                "minimum" => {
                    node.minimum = Some(
                        val.as_f64()
                            .ok_or_else(|| format!("{here}: not a number"))?,
                    )
                }
                "maximum" => {
                    node.maximum = Some(
                        val.as_f64()
                            .ok_or_else(|| format!("{here}: not a number"))?,
                    )
                }
                "pattern" => {
                    let p = val
                        .as_str()
                        .ok_or_else(|| format!("{here}: not a string"))?;
                    node.pattern = Some(Pattern::new(p).map_err(|e| format!("{here}: {e}"))?);
                }
                "oneOf" | "anyOf" => {
                    let mut ids = Vec::new();
                    for (i, sub) in val
                        .as_array()
                        .ok_or_else(|| format!("{here}: not an array"))?
                        .iter()
                        .enumerate()
                    {
                        ids.push(self.compile(sub, &format!("{here}/{i}"))?);
                    }
                    if k == "oneOf" {
                        node.one_of = ids;
                    } else {
                        node.any_of = ids;
                    }
                }
                "$ref" => {
                    let name = val
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/$defs/"))
                        .ok_or_else(|| format!("{here}: only #/$defs/ references are supported"))?;
                    node.reference = Some(self.def(name)?);
                }
                "$defs" if at.is_empty() => {}
                _ if ANNOTATIONS.contains(&k.as_str()) => {}
                _ => return Err(format!("{here}: unsupported keyword")),
            }
        }
        self.nodes.push(node);
        Ok(self.nodes.len() - 1)
    }

    /// The node of a definition, compiled on first reference (a placeholder first, so recursion terminates).
    fn def(&mut self, name: &str) -> Result<usize, String> {
        if let Some(id) = self.defs.get(name) {
            return Ok(*id);
        }
        let (key, v) = self
            .defs_json
            .get_key_value(name)
            .ok_or_else(|| format!("$defs/{name} is missing"))?;
        self.nodes.push(Node::default());
        let slot = self.nodes.len() - 1;
        self.defs.insert(key.as_str(), slot);
        let body = self.compile(v, &format!("/$defs/{name}"))?;
        // The placeholder refers to the compiled body.
        self.nodes[slot].reference = Some(body);
        Ok(slot)
    }
}

impl Schema {
    pub fn compile(text: &str) -> Result<Schema, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let empty = serde_json::Map::new();
        let defs = v.get("$defs").and_then(Value::as_object).unwrap_or(&empty);
        let mut c = Compiler {
            defs: HashMap::new(),
            defs_json: defs,
            nodes: Vec::new(),
        };
        let root = c.compile(&v, "")?;
        Ok(Schema {
            nodes: c.nodes,
            root,
        })
    }

    /// Whether `value` is valid; on failure, the JSON pointer of the first violation found.
    pub fn validate(&self, value: &Value) -> Result<(), String> {
        self.check(self.root, value, &At::Root)
    }

    fn check(&self, id: usize, v: &Value, at: &At<'_>) -> Result<(), String> {
        let n = &self.nodes[id];
        let fail = |what: &str| Err(format!("{at}: {what}"));
        if let Some(r) = n.reference {
            self.check(r, v, at)?;
        }
        if let Some(ty) = n.ty {
            let ok = match ty {
                Type::String => v.is_string(),
                Type::Integer => {
                    v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0)
                }
                Type::Number => v.is_number(),
                Type::Object => v.is_object(),
                Type::Array => v.is_array(),
                Type::Boolean => v.is_boolean(),
                Type::Null => v.is_null(),
            };
            if !ok {
                return fail(&format!("not of type {ty:?}"));
            }
        }
        if let Some(s) = v.as_str() {
            let len = s.chars().count();
            if n.max_length.is_some_and(|m| len > m) {
                return fail("too long");
            }
            if n.min_length.is_some_and(|m| len < m) {
                return fail("too short");
            }
            if let Some(p) = &n.pattern
                && !p.is_match(s)
            {
                return fail(&format!("does not match {}", p.source));
            }
        }
        if let Some(x) = v.as_f64() {
            if n.minimum.is_some_and(|m| x < m) {
                return fail("below the minimum");
            }
            if n.maximum.is_some_and(|m| x > m) {
                return fail("above the maximum");
            }
        }
        if let Some(obj) = v.as_object() {
            for r in &n.required {
                if !obj.contains_key(r) {
                    return fail(&format!("{r} is required"));
                }
            }
            for (name, sub) in &n.properties {
                if let Some(pv) = obj.get(name) {
                    self.check(*sub, pv, &At::Key(at, name))?;
                }
            }
        }
        if let Some(arr) = v.as_array() {
            if n.min_items.is_some_and(|m| arr.len() < m) {
                return fail("too few items");
            }
            if n.max_items.is_some_and(|m| arr.len() > m) {
                return fail("too many items");
            }
            if let Some(items) = n.items {
                for (i, item) in arr.iter().enumerate() {
                    self.check(items, item, &At::Index(at, i))?;
                }
            }
        }
        if !n.one_of.is_empty() {
            let matched = n
                .one_of
                .iter()
                .filter(|s| self.check(**s, v, at).is_ok())
                .count();
            if matched != 1 {
                return fail(&format!("matches {matched} of oneOf, not exactly 1"));
            }
        }
        if !n.any_of.is_empty() && !n.any_of.iter().any(|s| self.check(*s, v, at).is_ok()) {
            return fail("matches none of anyOf");
        }
        Ok(())
    }
}

/// Where in the value a check is, formatted as a JSON pointer only when a check fails.
enum At<'a> {
    Root,
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Root => f.write_str("/"),
            At::Key(At::Root, k) => write!(f, "/{k}"),
            At::Index(At::Root, i) => write!(f, "/{i}"),
            At::Key(up, k) => write!(f, "{up}/{k}"),
            At::Index(up, i) => write!(f, "{up}/{i}"),
        }
    }
}

fn compiled() -> &'static [(&'static str, Result<Schema, String>)] {
    static ALL: OnceLock<Vec<(&'static str, Result<Schema, String>)>> = OnceLock::new();
    ALL.get_or_init(|| {
        SCHEMAS
            .iter()
            .map(|(v, text)| (*v, Schema::compile(text)))
            .collect()
    })
}

fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    let out = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(out)
}

/// The schema for a payload's `ver`: that release, or for an unreleased patch version the latest release of the
/// same major.minor below it (patch releases do not change the structure, e.g. `1.0.4` is checked against `1.0.1`).
/// None when no release fits.
pub fn for_version(ver: &str) -> Option<(&'static str, &'static Schema)> {
    let want = parse_version(ver)?;
    compiled()
        .iter()
        .filter_map(|(v, s)| {
            let have = parse_version(v)?;
            (have.0 == want.0 && have.1 == want.1 && have.2 <= want.2).then_some((
                have,
                *v,
                s.as_ref().ok()?,
            ))
        })
        .max_by_key(|(have, _, _)| *have)
        .map(|(_, v, s)| (v, s))
}

/// The newest embedded release: the one schema the EU reference verifiers validate every DCC against, whatever
/// its `ver` (later releases only relax the first ones, e.g. partial dates of birth from 1.2.0 on).
pub(crate) fn newest() -> Option<(&'static str, &'static Schema)> {
    compiled()
        .iter()
        .filter_map(|(v, s)| Some((parse_version(v)?, *v, s.as_ref().ok()?)))
        .max_by_key(|(have, _, _)| *have)
        .map(|(_, v, s)| (v, s))
}

/// Every embedded schema compiles (none uses a keyword this validator does not implement).
pub fn check_all_compile() -> Result<(), String> {
    for (v, s) in compiled() {
        s.as_ref().map_err(|e| format!("schema {v}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_schema_compiles_and_unknown_keywords_fail_closed() {
        check_all_compile().unwrap();
        assert!(Schema::compile(r#"{"type":"object","additionalProperties":false}"#).is_err());
        assert!(Schema::compile(r##"{"$ref":"https://example.org/x"}"##).is_err());
    }

    #[test]
    fn patterns_are_unanchored_with_ascii_digit_classes_as_in_ecma_262() {
        let dob = Pattern::new(r"^((19|20)\d\d(-\d\d){0,2}){0,1}$").unwrap();
        assert!(dob.is_match("1980-01-31") && dob.is_match("1980") && dob.is_match(""));
        assert!(
            !dob.is_match("19٨٠"),
            "Arabic-Indic digits are not ECMA \\d"
        );
        assert!(!dob.is_match("1980-1-31"));
        let country = Pattern::new("[A-Z]{1,10}").unwrap();
        assert!(country.is_match("vn-VN"), "unanchored: matches anywhere");
        assert!(!country.is_match("vn"));
        let escaped = Pattern::new(r"^a\\d$").unwrap();
        assert!(escaped.is_match(r"a\d") && !escaped.is_match("a1"));
        let version = Pattern::new(r"^\d+.\d+.\d+$").unwrap();
        assert!(
            version.is_match("1.3.0") && version.is_match("1é3.0"),
            ". is any character"
        );
    }

    #[test]
    fn versions_resolve_to_their_release_or_the_patch_below() {
        assert_eq!(for_version("1.3.0").unwrap().0, "1.3.0");
        assert_eq!(for_version("1.0.4").unwrap().0, "1.0.1");
        assert!(for_version("2.0.0").is_none());
        assert!(for_version("1.4.0").is_none());
        assert!(for_version("1.3").is_none());
    }

    #[test]
    fn keywords_behave() {
        let s = Schema::compile(
            r##"{"$defs":{"n":{"type":"integer","minimum":1,"maximum":9}},"type":"object","required":["a"],
            "properties":{"a":{"type":"array","minItems":1,"maxItems":2,"items":{"$ref":"#/$defs/n"}},
            "b":{"type":"string","maxLength":3,"pattern":"^[A-Z<]*$"}},
            "oneOf":[{"required":["a"]},{"required":["c"]}]}"##,
        )
        .unwrap();
        assert!(s.validate(&json!({"a":[1,9],"b":"AB<"})).is_ok());
        assert!(s.validate(&json!({"a":[1.0]})).is_ok(), "1.0 is an integer");
        for bad in [
            json!({}),
            json!({"a":[]}),
            json!({"a":[1,2,3]}),
            json!({"a":[0]}),
            json!({"a":[10]}),
            json!({"a":[1.5]}),
            json!({"a":["1"]}),
            json!({"a":[1],"b":"ABCD"}),
            json!({"a":[1],"b":"ab"}),
            json!({"a":[1],"c":1}),
            json!([1]),
        ] {
            assert!(s.validate(&bad).is_err(), "{bad}");
        }
    }
}
