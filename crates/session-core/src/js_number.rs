//! JavaScript's number semantics where the package must match them:
//! `Math.round`, the safe-integer limit, how a number prints in an error
//! message, and how `JSON.stringify` writes a whole number (no `.0`).
//!
//! One module for these facts so that the tracker (`progress`) and the file
//! format (`state`) both use them without depending on each other.

/// The largest whole number JavaScript represents exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// `Math.round`: the nearest integer, ties toward +∞.
pub fn js_round(x: f64) -> f64 {
    let floor = x.floor();
    if x - floor >= 0.5 {
        floor + 1.0
    } else {
        floor
    }
}

/// Prints a number for an error message the way JavaScript would for the
/// common cases (integers without `.0`, NaN, Infinity).
pub(crate) fn js_display(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if x.fract() == 0.0 && x.abs() < 1e21 {
        format!("{}", x as i128)
    } else {
        format!("{x}")
    }
}

/// A number written as `JSON.stringify` writes it where it matters: a whole
/// number without a trailing `.0`.
pub(crate) struct JsonNumber(pub f64);

impl serde::Serialize for JsonNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// Largest magnitude below which a whole `f64` is printed as an integer.
        const WHOLE_LIMIT: f64 = 9_007_199_254_740_992.0;
        let value = self.0;
        if value.fract() == 0.0 && value.abs() < WHOLE_LIMIT {
            serializer.serialize_i64(value as i64)
        } else {
            serializer.serialize_f64(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_round_ties_up() {
        assert_eq!(js_round(2.5), 3.0);
        assert_eq!(js_round(0.49999999999999994), 0.0);
        assert_eq!(js_round(66.66666666666667), 67.0);
    }

    #[test]
    fn displays_numbers_as_javascript_does() {
        assert_eq!(js_display(f64::NAN), "NaN");
        assert_eq!(js_display(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(js_display(3.0), "3");
        assert_eq!(js_display(2.5), "2.5");
    }
}
