//! Test support: session files in the many shapes that `JSON.parse` reads
//! alike (minified, tabs, CRLF, reordered keys, escapes anywhere, keys
//! written twice, unicode, lone surrogates), damaged files, and a stand-in
//! for `JSON.parse` to compare with. Seeded: the same files on every run.
//!
//! The stand-in is serde_json's `Value` (with `preserve_order`, a key
//! written twice keeps its first place and its last value, as in
//! `JSON.parse`) read from the text as [`js_text::json_in`] maps it. It
//! builds values, so the files made here for it stay within serde_json's
//! depth and number range; deeper files are tested on their own.

use serde_json::{Map, Value};

use crate::js_text;

/// A seeded xorshift64* generator.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64) < p * (1u64 << 53) as f64
    }

    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// How a file is written.
pub(crate) struct Style {
    indent: Option<&'static str>,
    newline: &'static str,
    colon: &'static str,
    /// The chance of writing a char that needs no escape as `\uXXXX`.
    escapes: f64,
    upper_hex: bool,
    /// The chance of an object's members being shuffled.
    reorder: f64,
    /// The chance of an object getting members written twice (an earlier
    /// one, whose value the later one replaces).
    duplicates: f64,
}

impl Style {
    pub(crate) fn random(rng: &mut Rng) -> Self {
        Style {
            indent: rng.pick(&[None, None, Some("  "), Some("\t"), Some(" \t ")]),
            newline: rng.pick(&["\n", "\r\n"]),
            colon: rng.pick(&[":", ": ", " :\t"]),
            escapes: rng.pick(&[0.0, 0.0, 0.1, 1.0]),
            upper_hex: rng.chance(0.5),
            reorder: rng.pick(&[0.0, 0.5]),
            duplicates: rng.pick(&[0.0, 0.4]),
        }
    }
}

/// Values a member written earlier may have: any JSON, replaced later.
const DECOYS: [&str; 7] = [
    "\"x\"",
    "0",
    "null",
    "{}",
    "[1,{\"a\":[]}]",
    "\"completed\"",
    "\"active\"",
];

/// The text of `value` in `style`, with space around it, that `JSON.parse`
/// reads as `value` (but for key order when members move: compare with
/// [`parse`] of the text).
pub(crate) fn write(value: &Value, style: &Style, rng: &mut Rng) -> String {
    let mut out = String::from(rng.pick(&["", "\n", "\r\n \t"]));
    write_value(value, style, rng, 0, &mut out);
    out.push_str(rng.pick(&["", "\n", "\r\n", " \n\t"]));
    out
}

fn write_value(value: &Value, style: &Style, rng: &mut Rng, level: usize, out: &mut String) {
    let line = |out: &mut String, level: usize| {
        if let Some(indent) = style.indent {
            out.push_str(style.newline);
            out.push_str(&indent.repeat(level));
        }
    };
    match value {
        Value::String(s) => write_string(s, style, rng, out),
        Value::Number(n) => match n.as_u64() {
            Some(n) if rng.chance(0.5) => {
                out.push_str(&format!("{n}{}", rng.pick(&[".0", "e0", "E+0", ".000"])))
            }
            _ => out.push_str(&n.to_string()),
        },
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                line(out, level + 1);
                write_value(item, style, rng, level + 1, out);
            }
            if !items.is_empty() {
                line(out, level);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, Option<&Value>)> =
                map.iter().map(|(k, v)| (k, Some(v))).collect();
            if rng.chance(style.reorder) {
                for i in (1..members.len()).rev() {
                    members.swap(i, rng.below(i + 1));
                }
            }
            if !members.is_empty() && rng.chance(style.duplicates) {
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(members.len());
                    let before = rng.below(at + 1);
                    members.insert(before, (members[at].0, None));
                }
            }
            out.push('{');
            for (i, (key, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                line(out, level + 1);
                write_string(key, style, rng, out);
                out.push_str(style.colon);
                match value {
                    Some(value) => write_value(value, style, rng, level + 1, out),
                    None => out.push_str(rng.pick(&DECOYS)),
                }
            }
            if !members.is_empty() {
                line(out, level);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A JSON string literal for the mapped string `s`: what must be escaped is
/// (lone surrogates as `\udXXX`), other chars now and then.
fn write_string(s: &str, style: &Style, rng: &mut Rng, out: &mut String) {
    let units = js_text::to_utf16(s).unwrap_or_else(|| s.encode_utf16().collect());
    let hex = |unit: u16| {
        if style.upper_hex {
            format!("\\u{unit:04X}")
        } else {
            format!("\\u{unit:04x}")
        }
    };
    out.push('"');
    let mut i = 0;
    while i < units.len() {
        let unit = units[i];
        let pair = (0xD800..0xDC00).contains(&unit)
            && units
                .get(i + 1)
                .is_some_and(|u| (0xDC00..0xE000).contains(u));
        if pair {
            if rng.chance(style.escapes) {
                out.push_str(&hex(unit));
                out.push_str(&hex(units[i + 1]));
            } else {
                out.extend(char::decode_utf16([unit, units[i + 1]]).map(|c| c.unwrap_or('?')));
            }
            i += 2;
            continue;
        }
        match char::from_u32(u32::from(unit)) {
            // A lone surrogate can only be written as an escape.
            None => out.push_str(&hex(unit)),
            Some(c @ ('"' | '\\')) => {
                if rng.chance(0.5) {
                    out.push('\\');
                    out.push(c);
                } else {
                    out.push_str(&hex(unit));
                }
            }
            Some('\n') if rng.chance(0.5) => out.push_str("\\n"),
            Some('/') if rng.chance(style.escapes) => out.push_str("\\/"),
            Some(c) if c < ' ' || rng.chance(style.escapes) => out.push_str(&hex(unit)),
            Some(c) => out.push(c),
        }
        i += 1;
    }
    out.push('"');
}

/// What `JSON.parse` reads from `text` (see the [module docs](self)), or
/// `None` when it refuses it.
pub(crate) fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(&js_text::json_in(text)).ok()
}

/// Whether `JSON.parse` accepts the bytes, decoded as Node decodes a file:
/// a check of the syntax alone, at any depth and range.
pub(crate) fn is_json(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    serde_json::from_str::<serde::de::IgnoredAny>(&js_text::json_in(&text)).is_ok()
}

/// Strings that are hard to read right: unicode, chars JSON escapes, lone
/// surrogates, chars of the plane `js_text` maps into, keys' names.
fn tricky(rng: &mut Rng) -> String {
    let pieces: [&[u16]; 14] = [
        &[0x70, 0x6c, 0x61, 0x69, 0x6e],
        &[0xe9, 0x20, 0x4e2d],
        &[0xd83d, 0xde00],
        &[0x2028, 0x2029],
        &[0xdbff, 0xdfff],
        &[0xdbfd, 0xdfff],
        &[0xd83d],
        &[0xde00],
        &[0x22, 0x5c, 0x2f],
        &[0x0, 0x1f, 0xa, 0xd, 0x9],
        &[0x7d, 0x5d, 0x7b, 0x5b, 0x2c, 0x3a],
        &[0x5c, 0x75, 0x30, 0x30, 0x37, 0x33],
        &[0x73, 0x74, 0x61, 0x74, 0x75, 0x73],
        &[0xfeff],
    ];
    let mut units = Vec::new();
    for _ in 0..rng.below(4) {
        units.extend_from_slice(rng.pick(&pieces));
    }
    js_text::from_utf16(&units)
}

/// A free-form value, up to `depth` levels.
fn free_form(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 4 } else { 6 }) {
        0 => Value::String(tricky(rng)),
        1 => serde_json::json!(rng.below(1000) as i64 - 500),
        2 => serde_json::json!(rng.pick(&[0.1, -2.5e-7, 1e300])),
        3 => [Value::Null, Value::Bool(true)][rng.below(2)].clone(),
        4 => Value::Array(
            (0..rng.below(4))
                .map(|_| free_form(rng, depth - 1))
                .collect(),
        ),
        _ => Value::Object(object(rng, depth - 1)),
    }
}

fn object(rng: &mut Rng, depth: usize) -> Map<String, Value> {
    let keys = ["a", "status", "crashedAt", "10", "", "__proto__"];
    (0..rng.below(5))
        .map(|_| {
            let key = if rng.chance(0.3) {
                tricky(rng)
            } else {
                rng.pick(&keys).to_string()
            };
            (key, free_form(rng, depth))
        })
        .collect()
}

/// A session state with the reference's fields, a tricky context, and
/// sometimes fields of others (an owner on another host, a future field).
pub(crate) fn state(rng: &mut Rng, id: &str, status: &str, updated_at: &str) -> Value {
    let operation = format!("op {}", tricky(rng));
    let progress_status = match status {
        "active" => "running",
        other => other,
    };
    let mut progress = serde_json::json!({
        "sessionId": id,
        "operation": operation,
        "status": progress_status,
        "progress": rng.below(101),
        "startedAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": updated_at,
    });
    if rng.chance(0.5) {
        progress["currentStep"] = Value::String(tricky(rng));
    }
    if rng.chance(0.3) {
        progress["note"] = free_form(rng, 2);
    }
    let mut state = serde_json::json!({
        "id": id,
        "operation": operation,
        "status": status,
        "progress": progress,
        "context": object(rng, 3),
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": updated_at,
    });
    if rng.chance(0.2) {
        state["crashedAt"] = Value::String("2026-01-02T00:00:00.000Z".into());
    }
    if rng.chance(0.2) {
        state["owner"] = serde_json::json!({
            "pid": 1, "host": "elsewhere.invalid", "instance": "x", "since": updated_at
        });
    }
    if rng.chance(0.2) {
        state["futureField"] = free_form(rng, 2);
    }
    state
}

/// A damaged copy of `bytes`, and what was done to it.
pub(crate) fn damaged(rng: &mut Rng, bytes: &[u8]) -> (&'static str, Vec<u8>) {
    let at = |rng: &mut Rng| rng.below(bytes.len().max(1));
    let kind = rng.pick(&["truncate", "flip", "insert", "delete", "deep", "other"]);
    let out = match kind {
        "truncate" => bytes[..at(rng)].to_vec(),
        "flip" => {
            let mut copy = bytes.to_vec();
            for _ in 0..1 + rng.below(3) {
                let i = at(rng);
                copy[i] ^= 1 + rng.below(255) as u8;
            }
            copy
        }
        "insert" => {
            let i = at(rng);
            let piece: &[u8] = rng.pick(&[b"{", b"[", b"\"", b",", b"\\", b":", b"\0", b"\xff"]);
            [&bytes[..i], piece, &bytes[i..]].concat()
        }
        "delete" => {
            let i = at(rng);
            let end = (i + 1 + rng.below(8)).min(bytes.len());
            [&bytes[..i], &bytes[end..]].concat()
        }
        "deep" => {
            let depth = rng.pick(&[129, 2_000, 20_000]);
            let (open, close) = rng.pick(&[("[", "]"), ("{\"k\":", "}")]);
            let closes = if rng.chance(0.8) { depth } else { depth - 1 };
            let nested = format!("{}1{}", open.repeat(depth), close.repeat(closes));
            // A member `"deep"` first in the context (or, when its key is
            // written with escapes, first in the state).
            let text = String::from_utf8_lossy(bytes);
            let from = text.find("\"context\"").unwrap_or(0);
            match text[from..].find('{').map(|i| from + i + 1) {
                Some(i) => {
                    let empty = text[i..].trim_start().starts_with('}');
                    let comma = if empty { "" } else { "," };
                    format!("{}\"deep\":{nested}{comma}{}", &text[..i], &text[i..]).into_bytes()
                }
                None => nested.into_bytes(),
            }
        }
        _ => rng
            .pick(&[
                &b"[]"[..],
                b"[1,2]",
                b"\"text\"",
                b"42",
                b"null",
                b"",
                b"  \n",
                b"{}",
                b"{\"id\":1}",
                b"\xef\xbb\xbf{}",
            ])
            .to_vec(),
    };
    (kind, out)
}
