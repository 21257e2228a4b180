//! JSON text read as JavaScript's `JSON.parse` reads it.
//!
//! Session files may be written by other tools or by hand, and the
//! reference module reads them with plain `JSON.parse`. serde_json accepts
//! the same texts (RFC 8259) but reads some of them otherwise; each
//! difference is met here or where noted:
//!
//! - **Duplicate keys.** `JSON.parse` keeps the last value of a key written
//!   more than once, at the place of the key's first appearance; a derived
//!   `Deserialize` refuses the object ("duplicate field"). [`from_str`] reads
//!   with the derived impl first (the fast path: files this package wrote
//!   have no duplicates) and, when that fails, again with duplicates
//!   resolved as `JSON.parse` resolves them ([`LastWins`] does the same for
//!   a nested object).
//! - **Lone surrogates** (`"\ud83d"`): serde_json refuses them;
//!   [`json_in`](crate::js_text::json_in) maps them first.
//! - **Depth and range.** serde_json refuses to *build* a value nested
//!   deeper than 128 levels or a number beyond a double's range (`1e400`,
//!   which `JSON.parse` reads as `Infinity`), but checks and skips any value
//!   without either limit, and without recursion (`IgnoredAny`, `RawValue`).
//!   So what reads session files builds only the fields it decides by, never
//!   a free-form value (the context, fields written by others).
//! - **Bytes that are not UTF-8.** `readFileSync(path, "utf-8")` replaces
//!   them with U+FFFD before `JSON.parse` sees the text; so does the store
//!   (`String::from_utf8_lossy`, the same replacement).
//!
//! Keys are compared as `JSON.parse` reads them: serde decodes their escapes
//! (`"st\u0061tus"` is `status`) before matching a field.

use std::fmt;

use indexmap::IndexMap;
use serde::de::value::MapDeserializer;
use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, Visitor};
use serde_json::value::RawValue;

/// Reads the JSON object `text` (as [`json_in`](crate::js_text::json_in)
/// maps it) into `T` (a struct) as `JSON.parse` reads it; see
/// [`from_object`].
pub fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> serde_json::Result<T> {
    from_object(text).map(|(value, _)| value)
}

/// Reads the JSON object `text` into `T` (a struct) as `JSON.parse` reads
/// it: with `T`'s derived impl first and, when that fails, again with each
/// key written more than once resolved as `JSON.parse` resolves it, the
/// last value at the first appearance's place. The values are then handed
/// to `T` as they are written ([`RawValue`]), so a value overridden later
/// is only checked to be JSON.
/// Also says whether the first read did it, that is whether no field of `T`
/// is written twice. The error is the second read's when `text` is an
/// object, else the first's. Text that is not an object is refused (a
/// derived impl would read a struct from an array, field by field).
pub fn from_object<'a, T: Deserialize<'a>>(text: &'a str) -> serde_json::Result<(T, bool)> {
    if !is_object(text) {
        return Err(serde_json::Error::custom("expected a JSON object"));
    }
    match serde_json::from_str(text) {
        Ok(value) => Ok((value, true)),
        Err(first) => match members(text) {
            Ok(members) => from_members(members).map(|value| (value, false)),
            Err(_) => Err(first),
        },
    }
}

/// Whether the JSON text `text` is an object (its first char, after JSON
/// whitespace, is `{`).
pub fn is_object(text: &str) -> bool {
    text.trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
}

/// `T` from the members of an object, each key once.
fn from_members<'a, T: Deserialize<'a>>(members: Members<'a>) -> serde_json::Result<T> {
    T::deserialize(MapDeserializer::new(members.0.into_iter()))
}

/// The members of the JSON object `text`.
fn members(text: &str) -> serde_json::Result<Members<'_>> {
    serde_json::from_str(text)
}

/// The members of a JSON object, keys decoded, values as written, a key
/// written again replacing the value where the key first appeared
/// (`IndexMap::insert`).
struct Members<'a>(IndexMap<String, &'a RawValue>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;

        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = IndexMap::new();
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    members.insert(key, value);
                }
                Ok(Members(members))
            }
        }

        deserializer.deserialize_map(MembersVisitor)
    }
}

/// A `T` read from a JSON object as `JSON.parse` reads it ([`from_str`]): for
/// the field of a derived struct whose value is an object with fields of
/// its own (a duplicate inside it is resolved there, not refused).
#[derive(Debug)]
pub struct LastWins<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for LastWins<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        from_str(raw.get()).map(LastWins).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[derive(Debug, serde::Deserialize)]
    struct Pair {
        a: u32,
        #[serde(default)]
        b: Option<LastWins<Inner>>,
    }

    #[derive(Debug, serde::Deserialize)]
    struct Inner {
        x: String,
    }

    #[test]
    fn the_last_value_of_a_key_wins_as_in_json_parse() {
        // The derived impl refuses these; JSON.parse keeps the last value.
        assert!(serde_json::from_str::<Pair>(r#"{"a":1,"a":2}"#).is_err());
        let read: Pair = from_str(r#"{"a":"not a number","a":2}"#).unwrap();
        assert_eq!(read.a, 2);
        // Inside a nested object too, and with escaped keys.
        let read: Pair = from_str(r#"{"\u0061":3,"b":{"x":"1","\u0078":"2"}}"#).unwrap();
        assert_eq!(read.b.unwrap().0.x, "2");
        // An earlier value is only checked to be JSON; a later bad one fails.
        assert!(from_str::<Pair>(r#"{"a":[1e400,{}],"a":4}"#).is_ok());
        assert!(from_str::<Pair>(r#"{"a":4,"a":"x"}"#).is_err());
        // Not JSON, or not an object.
        assert!(from_str::<Pair>(r#"{"a":1,"a":"#).is_err());
        assert!(from_str::<Pair>(r#"{"a":1}x"#).is_err());
        // A derived impl reads a struct from an array; JSON.parse does not.
        assert!(serde_json::from_str::<Pair>("[1]").is_ok());
        assert!(from_str::<Pair>("[1]").is_err());
        assert!(from_str::<Pair>(r#"{"a":1,"b":["1"]}"#).is_err());
        // Whether a field was written twice.
        assert!(from_object::<Pair>(r#" {"a":1,"c":2,"c":3}"#).unwrap().1);
        assert!(!from_object::<Pair>("\r\n\t{\"a\":1,\"a\":1}").unwrap().1);
    }

    #[test]
    fn duplicates_keep_the_first_place_with_the_last_value() {
        let read = members(r#"{"b":1,"a":[2],"\u0062":3}"#).unwrap().0;
        let read: Vec<(&str, &str)> = read.iter().map(|(k, v)| (k.as_str(), v.get())).collect();
        assert_eq!(read, [("b", "3"), ("a", "[2]")]);
    }

    #[test]
    fn free_form_values_are_skipped_at_any_depth_and_range() {
        #[derive(serde::Deserialize)]
        struct Only {
            #[allow(dead_code)]
            a: u32,
        }
        let deep = format!(
            r#"{{"a":1,"c":{}1{},"n":1e400,"a":2}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(from_str::<Only>(&deep).is_ok());
        assert!(serde_json::from_str::<Value>(&deep).is_err());
    }
}
