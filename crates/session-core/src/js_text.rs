//! JavaScript strings inside Rust strings, losslessly.
//!
//! A JavaScript string is a sequence of UTF-16 code units and may hold lone
//! surrogates (`"😀".slice(0, 1)` is the lone high surrogate `\ud83d`). A Rust
//! [`String`] must be valid UTF-8 and cannot hold them: napi replaces them with
//! U+FFFD and serde_json refuses JSON text such as `"\ud83d"`. Yet the package
//! must write to disk exactly the bytes `JSON.stringify` writes and hand back
//! to JavaScript exactly the string it was given.
//!
//! # The mapping
//! A JS string is carried inside a Rust `String` by a reversible mapping into
//! the last private-use plane, which no real text is expected to use:
//!
//! - a lone surrogate code unit `0xD800 + k` (`k` in `0..0x800`) becomes the
//!   char `U+10F800 + k`;
//! - a real char `c` in `U+10F7FF..=U+10FFFF`, which would otherwise collide
//!   with those, is written as the pair ESC, `c`, where ESC is `U+10F7FF`
//!   (so ESC itself is written ESC, ESC);
//! - every other char is unchanged.
//!
//! A well-formed string with no char at or above `U+10F7FF` — nearly every
//! string — therefore maps to itself, and checking for that is a scan for the
//! UTF-8 lead byte `0xF4` ([`needs_mapping`]).
//!
//! Mapped strings go through serde_json unharmed: serde_json writes non-ASCII
//! chars literally, and reads them back literally. [`json_out`] turns what
//! serde_json writes into what `JSON.stringify` writes (mapped lone surrogates
//! become `\udXXX` escapes); [`json_in`] turns JSON text written by JavaScript
//! into text serde_json reads as mapped strings.
//!
//! # Decoding is lenient
//! [`from_utf16`] only ever writes ESC before a char in `U+10F7FF..=U+10FFFF`,
//! and never writes a mapped high surrogate straight before a mapped low one.
//! Strings built in Rust (by concatenating or slicing mapped strings) may break
//! those rules; they are read as JavaScript would read the same units joined:
//! an ESC not followed by such a char stands for itself, and a mapped high
//! surrogate followed by a mapped low one is a surrogate pair (one char).

use std::borrow::Cow;

/// Marks the next char as a real char in `ESC..=char::MAX`.
const ESC: char = '\u{10F7FF}';
/// The char that stands for the lone surrogate `0xD800`.
const LONE_BASE: u32 = 0x10F800;
/// The first surrogate code unit.
const SURROGATE_BASE: u32 = 0xD800;

/// Whether `c` is ESC, a mapped lone surrogate, or a real char that collides
/// with one of them.
fn is_special(c: char) -> bool {
    c >= ESC
}

/// The char that stands for the lone surrogate `unit` (in `0xD800..=0xDFFF`).
fn lone(unit: u32) -> char {
    debug_assert!((0xD800..=0xDFFF).contains(&unit));
    char::from_u32(unit - SURROGATE_BASE + LONE_BASE).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The surrogate code unit that the mapped char `c` stands for.
fn unlone(c: char) -> Option<u16> {
    let code = u32::from(c);
    if code >= LONE_BASE {
        u16::try_from(code - LONE_BASE + SURROGATE_BASE).ok()
    } else {
        None
    }
}

/// Whether `unit` is a high (leading) surrogate.
fn is_high(unit: u16) -> bool {
    (0xD800..0xDC00).contains(&unit)
}

/// Whether `unit` is a low (trailing) surrogate.
fn is_low(unit: u16) -> bool {
    (0xDC00..0xE000).contains(&unit)
}

/// The char encoded by the surrogate pair `high`, `low`.
fn combine(high: u16, low: u16) -> char {
    let code = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
    char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Whether `text` contains any char at or above `U+10F7FF`, that is a mapped
/// lone surrogate or an escape: the strings that [`to_utf16`] and
/// [`json_out`] must change.
///
/// This is a scan for the UTF-8 lead byte `0xF4` (of chars `U+100000` and
/// above), so it is cheap on ordinary text.
///
/// ```
/// use msw_session_core::js_text::{from_utf16, needs_mapping};
/// assert!(!needs_mapping("plain text 😀"));
/// assert!(needs_mapping(&from_utf16(&[0xD83D])));
/// ```
pub fn needs_mapping(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = memchr::memchr(0xF4, &bytes[from..]) {
        let at = from + pos;
        // 0xF4 is never a continuation byte, so `at` is a char boundary.
        if text[at..].chars().next().is_some_and(is_special) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// The JavaScript string `units` (UTF-16 code units) as a mapped Rust string:
/// lone surrogates become chars `U+10F800..=U+10FFFF`, real chars in
/// `U+10F7FF..=U+10FFFF` are escaped (see the [module docs](self)).
///
/// A well-formed string with no char at or above `U+10F7FF` is returned as
/// `String::from_utf16` gives it.
///
/// ```
/// use msw_session_core::js_text::{from_utf16, to_utf16};
/// let cut: Vec<u16> = "a😀".encode_utf16().take(2).collect();
/// let text = from_utf16(&cut);
/// assert_eq!(text, "a\u{10F83D}");
/// assert_eq!(to_utf16(&text), Some(cut));
/// assert_eq!(from_utf16(&"a😀".encode_utf16().collect::<Vec<_>>()), "a😀");
/// ```
pub fn from_utf16(units: &[u16]) -> String {
    if let Ok(text) = String::from_utf16(units) {
        if !needs_mapping(&text) {
            return text;
        }
    }
    let mut text = String::with_capacity(units.len() + 8);
    for decoded in char::decode_utf16(units.iter().copied()) {
        match decoded {
            Ok(c) => {
                if is_special(c) {
                    text.push(ESC);
                }
                text.push(c);
            }
            Err(e) => text.push(lone(u32::from(e.unpaired_surrogate()))),
        }
    }
    text
}

/// The JavaScript string (UTF-16 code units) that the mapped string `text`
/// stands for, or `None` when `text` holds no mapped char or escape, so that
/// the plain UTF-8 to UTF-16 conversion gives the same string.
///
/// `to_utf16(&from_utf16(x))` is `x` (or `None` and then `x` is the plain
/// conversion). Decoding is lenient: see the [module docs](self).
pub fn to_utf16(text: &str) -> Option<Vec<u16>> {
    if !needs_mapping(text) {
        return None;
    }
    let mut units = Vec::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut buf = [0u16; 2];
    while let Some(c) = chars.next() {
        if c == ESC {
            let real = chars.next_if(|&next| is_special(next)).unwrap_or(ESC);
            units.extend_from_slice(real.encode_utf16(&mut buf));
        } else if let Some(unit) = unlone(c) {
            units.push(unit);
        } else {
            units.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    Some(units)
}

/// Turns JSON text that serde_json wrote from values holding mapped strings
/// into the text `JSON.stringify` writes for the JavaScript values they stand
/// for: a mapped lone surrogate becomes the escape `\udXXX` (lowercase hex, as
/// ES2019 well-formed `JSON.stringify` writes it), an escape pair becomes the
/// real char. `json` is returned untouched, without allocating, when nothing
/// maps.
///
/// serde_json writes every non-ASCII char literally, and a raw non-ASCII char
/// can only appear inside a JSON string, so a plain scan of the text suffices.
///
/// ```
/// use msw_session_core::js_text::{from_utf16, json_out};
/// let text = from_utf16(&[0x61, 0xD83D]);
/// let json = serde_json::to_string(&text).unwrap();
/// assert_eq!(json_out(json), r#""a\ud83d""#);
/// ```
pub fn json_out(json: String) -> String {
    if !needs_mapping(&json) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    let mut chars = json.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ESC {
            out.push(chars.next_if(|&next| is_special(next)).unwrap_or(ESC));
        } else if let Some(unit) = unlone(c) {
            let low = if is_high(unit) {
                chars
                    .peek()
                    .copied()
                    .and_then(unlone)
                    .filter(|&u| is_low(u))
            } else {
                None
            };
            match low {
                Some(low) => {
                    chars.next();
                    out.push(combine(unit, low));
                }
                None => {
                    out.push_str("\\u");
                    out.push_str(&format!("{unit:04x}"));
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The code unit written as four hex digits (in any case) at `bytes[at..]`.
fn hex4(bytes: &[u8], at: usize) -> Option<u16> {
    let digits = bytes.get(at..at.checked_add(4)?)?;
    digits.iter().try_fold(0u16, |acc, &d| {
        let digit = char::from(d).to_digit(16)?;
        Some(acc << 4 | digit as u16)
    })
}

/// The code unit of the escape `\uXXXX` at `bytes[at..]`.
fn escape_at(bytes: &[u8], at: usize) -> Option<u16> {
    if bytes.get(at) == Some(&b'\\') && bytes.get(at + 1) == Some(&b'u') {
        hex4(bytes, at + 2)
    } else {
        None
    }
}

/// Turns JSON text written by JavaScript (or by [`json_out`]) into text that
/// serde_json parses into mapped strings.
///
/// Inside JSON strings, an escape `\uD800`–`\uDFFF` (hex digits in any case)
/// that is not part of a valid pair (a high `\uD800`–`\uDBFF` escape straight
/// followed by a low `\uDC00`–`\uDFFF` escape) becomes the mapped char, raw;
/// a raw char in `U+10F7FF..=U+10FFFF`, or a valid escaped pair that encodes
/// one, becomes the escape pair; everything else, valid escaped pairs
/// included, is left for serde_json to decode. An escaped backslash is
/// skipped as a whole, so `\\ud800` is not an escape.
///
/// Returns `Cow::Borrowed` when nothing changes. Never panics: malformed JSON
/// is passed on for serde_json to reject.
///
/// ```
/// use msw_session_core::js_text::{json_in, to_utf16};
/// let parsed: String = serde_json::from_str(&json_in(r#""a\uD83D""#)).unwrap();
/// assert_eq!(to_utf16(&parsed), Some(vec![0x61, 0xD83D]));
/// ```
pub fn json_in(json: &str) -> Cow<'_, str> {
    let bytes = json.as_bytes();
    let mut out: Option<String> = None;
    // `json[..copied]` has been written to `out` (or needs no change).
    let mut copied = 0;
    let mut replace = |out: &mut Option<String>, start: usize, end: usize, with: &[char]| {
        let out = out.get_or_insert_with(|| String::with_capacity(json.len() + 16));
        out.push_str(&json[copied..start]);
        out.extend(with);
        copied = end;
    };
    let mut i = 0;
    while let Some(pos) = bytes
        .get(i..)
        .and_then(|rest| memchr::memchr2(b'\\', 0xF4, rest))
    {
        // Both bytes are ASCII or a lead byte, so `i` is a char boundary.
        i += pos;
        if bytes[i] == 0xF4 {
            if let Some(c) = json[i..].chars().next().filter(|&c| is_special(c)) {
                replace(&mut out, i, i + c.len_utf8(), &[ESC, c]);
            }
            i += 1;
            continue;
        }
        let Some(unit) = escape_at(bytes, i) else {
            // Another escape (`\\`, `\"`, `\n`, ...) or a malformed one: skip
            // the backslash and the char it escapes.
            i += 2;
            continue;
        };
        if is_high(unit) {
            if let Some(low) = escape_at(bytes, i + 6).filter(|&u| is_low(u)) {
                let c = combine(unit, low);
                if is_special(c) {
                    replace(&mut out, i, i + 12, &[ESC, c]);
                }
                i += 12;
                continue;
            }
        }
        if is_high(unit) || is_low(unit) {
            replace(&mut out, i, i + 6, &[lone(u32::from(unit))]);
        }
        i += 6;
    }
    match out {
        None => Cow::Borrowed(json),
        Some(mut out) => {
            out.push_str(&json[copied..]);
            Cow::Owned(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What ES2019 `JSON.stringify` writes for the string `units`
    /// (QuoteJSONString in the spec).
    fn js_stringify(units: &[u16]) -> String {
        quote(units, false)
    }

    /// `JSON.stringify`, or the same with uppercase hex in escapes.
    fn quote(units: &[u16], upper: bool) -> String {
        let hex = |unit: u32| {
            if upper {
                format!("\\u{unit:04X}")
            } else {
                format!("\\u{unit:04x}")
            }
        };
        let mut out = String::from("\"");
        for decoded in char::decode_utf16(units.iter().copied()) {
            match decoded {
                Ok('\u{8}') => out.push_str("\\b"),
                Ok('\t') => out.push_str("\\t"),
                Ok('\n') => out.push_str("\\n"),
                Ok('\u{c}') => out.push_str("\\f"),
                Ok('\r') => out.push_str("\\r"),
                Ok('"') => out.push_str("\\\""),
                Ok('\\') => out.push_str("\\\\"),
                Ok(c) if c < ' ' => out.push_str(&hex(u32::from(c))),
                Ok(c) => out.push(c),
                Err(e) => out.push_str(&hex(u32::from(e.unpaired_surrogate()))),
            }
        }
        out.push('"');
        out
    }

    /// The JavaScript string that the mapped string `text` stands for.
    fn js(text: &str) -> Vec<u16> {
        to_utf16(text).unwrap_or_else(|| text.encode_utf16().collect())
    }

    fn units(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    /// Checks every property for the JavaScript string `x`.
    fn check(x: &[u16]) {
        let mapped = from_utf16(x);
        assert_eq!(js(&mapped), x, "round trip of {x:04x?}");
        assert_eq!(
            needs_mapping(&mapped),
            to_utf16(&mapped).is_some(),
            "{x:04x?}"
        );

        let expected = js_stringify(x);
        let written = json_out(serde_json::to_string(&mapped).unwrap());
        assert_eq!(written, expected, "json_out of {x:04x?}");

        for text in [expected, quote(x, true)] {
            let parsed: String = serde_json::from_str(&json_in(&text))
                .unwrap_or_else(|e| panic!("json_in of {text:?}: {e}"));
            assert_eq!(parsed, mapped, "json_in of {text:?}");
        }
        // Everything escaped as \uXXXX, as some writers do.
        let mut escaped = String::from("\"");
        for unit in x {
            escaped.push_str(&format!("\\u{unit:04X}"));
        }
        escaped.push('"');
        let parsed: String = serde_json::from_str(&json_in(&escaped))
            .unwrap_or_else(|e| panic!("json_in of {escaped:?}: {e}"));
        assert_eq!(parsed, mapped, "json_in of {escaped:?}");
    }

    /// Interesting pieces of JavaScript strings, as code units.
    fn pieces() -> Vec<Vec<u16>> {
        let mut pieces: Vec<Vec<u16>> = [
            0x0, 0x1f, 0x22, 0x5c, 0x41, 0x7f, 0xe9, 0x2028, 0x2029, 0xd7ff, 0xd800, 0xd83d,
            0xdbfd, 0xdbfe, 0xdbff, 0xdc00, 0xde00, 0xdfff, 0xe000, 0xfffd, 0xffff,
        ]
        .iter()
        .map(|&u| vec![u])
        .collect();
        for c in [
            '😀',
            '\u{10000}',
            '\u{10F7FE}',
            '\u{10F7FF}',
            '\u{10F800}',
            '\u{10FC3D}',
            '\u{10FFFF}',
        ] {
            pieces.push(units(&c.to_string()));
        }
        pieces
    }

    #[test]
    fn round_trips_chosen_strings() {
        for s in [
            "",
            "ascii",
            "é ü ß 中文 \u{2028}\u{2029} \u{7f}",
            "😀 astral 𝄞",
            "\u{10F7FE}\u{10F7FF}\u{10F800}\u{10FFFF}",
            "\u{10F7FF}\u{10F7FF}",
            "\u{10F7FF}\u{10F800}",
            "\u{10F7FF}\u{10FFFF}",
            "\u{10F7FF}a",
            "quotes \" and \\ and \n\t\r\u{8}\u{c}\u{1}",
        ] {
            check(&units(s));
        }
        for x in [
            vec![0xd83d],
            vec![0xde00],
            vec![0x61, 0xd83d],
            vec![0xdc00, 0xd800],
            vec![0xd800, 0xd800, 0xdc00],
            vec![0xd800, 0x61, 0xdc00],
            vec![0x61, 0xdbff],
            vec![0xdbfd, 0xdfff, 0xd800],
            vec![0xdbfd, 0xdfff, 0xdbfe, 0xdc00],
            vec![0xdbfd, 0xdfff, 0xdbff, 0xdfff],
            vec![0xdbfd, 0xdfff, 0x61],
            vec![0xdbfd, 0xdfff, 0xdfff],
            vec![0xdbfd],
            vec![0xdfff, 0xdbfd],
        ] {
            check(&x);
        }
    }

    #[test]
    fn maps_as_documented() {
        assert_eq!(from_utf16(&[0xd800]), "\u{10F800}");
        assert_eq!(from_utf16(&[0xdfff]), "\u{10FFFF}");
        assert_eq!(from_utf16(&[0xdc00, 0xd800]), "\u{10FC00}\u{10F800}");
        assert_eq!(from_utf16(&units("\u{10F7FF}")), "\u{10F7FF}\u{10F7FF}");
        assert_eq!(from_utf16(&units("\u{10F800}")), "\u{10F7FF}\u{10F800}");
        assert_eq!(from_utf16(&units("\u{10FFFF}")), "\u{10F7FF}\u{10FFFF}");
        assert_eq!(from_utf16(&units("\u{10F7FE}")), "\u{10F7FE}");
        assert!(!needs_mapping("\u{10F7FE}\u{100000}\u{10F000} 😀"));
        assert!(needs_mapping("x\u{10F7FF}"));
        assert_eq!(to_utf16("😀"), None);
    }

    #[test]
    fn writes_what_json_stringify_writes() {
        let cases: [(&[u16], &str); 7] = [
            // JSON.stringify("a\ud83d")
            (&[0x61, 0xd83d], r#""a\ud83d""#),
            // JSON.stringify("\ud83d\ude00")
            (&[0xd83d, 0xde00], "\"😀\""),
            // JSON.stringify("\uDC00\uD800")
            (&[0xdc00, 0xd800], r#""\udc00\ud800""#),
            // JSON.stringify("\uDBFF\uDFFF") and "\u{10F7FF}"
            (&[0xdbff, 0xdfff], "\"\u{10FFFF}\""),
            (&[0xdbfd, 0xdfff], "\"\u{10F7FF}\""),
            // JSON.stringify("\u2028\u007f\u0001")
            (&[0x2028, 0x7f, 0x1], "\"\u{2028}\u{7f}\\u0001\""),
            // JSON.stringify("\\ud800")
            (&[0x5c, 0x75, 0x64, 0x38, 0x30, 0x30], r#""\\ud800""#),
        ];
        for (x, expected) in cases {
            let written = json_out(serde_json::to_string(&from_utf16(x)).unwrap());
            assert_eq!(written, expected);
            assert_eq!(js_stringify(x), expected);
        }

        // Whole documents, compact and pretty, keys included.
        let mut value = serde_json::Map::new();
        value.insert(
            from_utf16(&[0x6b, 0xdbff]),
            serde_json::json!([
                from_utf16(&[0xdc00]),
                1,
                "\\ud800",
                from_utf16(&units("\u{10F800}"))
            ]),
        );
        let value = serde_json::Value::Object(value);
        assert_eq!(
            json_out(serde_json::to_string(&value).unwrap()),
            "{\"k\\udbff\":[\"\\udc00\",1,\"\\\\ud800\",\"\u{10F800}\"]}"
        );
        // JSON.stringify(value, null, 2)
        let pretty = "{\n  \"k\\udbff\": [\n    \"\\udc00\",\n    1,\n    \"\\\\ud800\",\n    \"\u{10F800}\"\n  ]\n}";
        assert_eq!(
            json_out(serde_json::to_string_pretty(&value).unwrap()),
            pretty
        );
        let back: serde_json::Value = serde_json::from_str(&json_in(pretty)).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn reads_what_javascript_writes() {
        let cases: [(&str, &[u16]); 8] = [
            (r#""a\ud83d""#, &[0x61, 0xd83d]),
            (r#""a\uD83D""#, &[0x61, 0xd83d]),
            (r#""\ud83d\ude00""#, &[0xd83d, 0xde00]),
            (r#""\uD83D\uDE00""#, &[0xd83d, 0xde00]),
            (r#""\ud83d\ud83d\ude00""#, &[0xd83d, 0xd83d, 0xde00]),
            (r#""\ude00\ud83d""#, &[0xde00, 0xd83d]),
            (
                r#""\udbfd\udfff\uDBFF\uDFFF""#,
                &[0xdbfd, 0xdfff, 0xdbff, 0xdfff],
            ),
            (
                "\"\u{10F7FF}\u{10FFFF}\"",
                &[0xdbfd, 0xdfff, 0xdbff, 0xdfff],
            ),
        ];
        for (text, x) in cases {
            let parsed: String = serde_json::from_str(&json_in(text)).unwrap();
            assert_eq!(js(&parsed), x, "{text}");
            assert_eq!(parsed, from_utf16(x), "{text}");
        }
    }

    #[test]
    fn leaves_escaped_backslashes_alone() {
        for text in [
            r#""\\ud800""#,
            r#""\\uD83D\\uDE00""#,
            r#""\\\\ud800""#,
            r#""\"\\ud800""#,
            r#"{"\\udfff":"\\ud800\\udc00"}"#,
        ] {
            assert!(
                matches!(json_in(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
        // An odd number of backslashes: the last one starts an escape.
        assert_eq!(json_in(r#""\\\ud800""#), "\"\\\\\u{10F800}\"");
        // A pair whose low half is an escaped backslash is no pair.
        assert_eq!(json_in(r#""\ud800\\udc00""#), "\"\u{10F800}\\\\udc00\"");
    }

    #[test]
    fn every_single_code_unit() {
        for unit in 0..=u16::MAX {
            check(&[unit]);
        }
    }

    #[test]
    fn every_pair_and_triple_of_pieces() {
        let pieces = pieces();
        for a in &pieces {
            for b in &pieces {
                check(&[a.as_slice(), b].concat());
                for c in &pieces {
                    check(&[a.as_slice(), b, c].concat());
                }
            }
        }
    }

    #[test]
    fn every_pair_of_some_code_units() {
        let interesting = [
            0x41, 0xd800, 0xd83d, 0xdbfd, 0xdbfe, 0xdbff, 0xdc00, 0xde00, 0xdfff, 0xe000,
        ];
        for &a in &interesting {
            for b in 0..=u16::MAX {
                let x = [a, b];
                let mapped = from_utf16(&x);
                assert_eq!(js(&mapped), x);
                let y = [b, a];
                let mapped = from_utf16(&y);
                assert_eq!(js(&mapped), y);
                assert_eq!(
                    json_out(serde_json::to_string(&mapped).unwrap()),
                    js_stringify(&y)
                );
            }
        }
    }

    #[test]
    fn reads_strings_built_in_rust_as_javascript_would() {
        // A lone ESC stands for itself.
        assert_eq!(js("\u{10F7FF}"), units("\u{10F7FF}"));
        assert_eq!(js("\u{10F7FF}a"), units("\u{10F7FF}a"));
        assert_eq!(json_out("\"\u{10F7FF}\"".into()), "\"\u{10F7FF}\"");
        // Mapped halves joined make a pair, as joined JS strings do.
        let joined = from_utf16(&[0xd83d]) + &from_utf16(&[0xde00]);
        assert_eq!(js(&joined), [0xd83d, 0xde00]);
        assert_eq!(json_out(serde_json::to_string(&joined).unwrap()), "\"😀\"");
    }

    #[test]
    fn fast_paths_do_not_allocate() {
        for text in [
            "",
            r#"{"a":"plain é 😀 \u{10F7FE}","b":[1,2.5,null]}"#,
            r#""escapes \n \" \\ \u00e9 \u2028 \ud83d\ude00 \uD83D\uDE00""#,
            "\"raw \u{100000} \u{10F7FE}\"",
        ] {
            assert!(matches!(json_in(text), Cow::Borrowed(_)), "{text}");
            let owned = text.to_string();
            let ptr = owned.as_ptr();
            let out = json_out(owned);
            assert_eq!(out.as_ptr(), ptr);
            assert_eq!(out, text);
            assert_eq!(to_utf16(text), None);
        }
        let plain = units("plain é 😀");
        assert_eq!(from_utf16(&plain), "plain é 😀");
    }

    #[test]
    fn never_panics_on_malformed_json() {
        for text in [
            "\\",
            "\\u",
            "\"\\u",
            "\"\\ud8",
            "\"\\ud800\\u",
            "\"\\ud800\\udc",
            "\"\\ud800\\",
            "\\\u{10F800}",
            "\\é",
            "\\u+d80",
            "\"\\uzzzz\"",
            "\u{10F800}",
            "\\ud800",
        ] {
            let _ = json_in(text);
        }
        // `+` is not a hex digit (u16::from_str_radix would take it).
        assert!(matches!(json_in(r#""\u+800""#), Cow::Borrowed(_)));

        // Random texts made of tricky fragments: no panic, and whenever
        // serde_json reads the text itself, json_in reads as the mapping of it.
        let fragments = [
            "\\",
            "u",
            "d",
            "D",
            "8",
            "c",
            "0",
            "f",
            "F",
            "b",
            "\"",
            "é",
            "\u{10F800}",
            "\u{10F7FF}",
            "\u{10FFFF}",
            "\\ud83d",
            "\\ude00",
            "\\udbfd",
            "\\udfff",
            "\\\\",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 12) as usize;
            let mut text = String::from("\"");
            for _ in 0..len {
                text.push_str(fragments[(next() % fragments.len() as u64) as usize]);
            }
            text.push('"');
            let converted = json_in(&text);
            if let Ok(direct) = serde_json::from_str::<String>(&text) {
                let expected = from_utf16(&units(&direct));
                assert_eq!(
                    serde_json::from_str::<String>(&converted).ok(),
                    Some(expected),
                    "{text}"
                );
            }
        }
    }
}
