//! Masked identifiers for anything that may reach a log, a screen or an audit trail.
//!
//! Why a type: a `String` can hold a full ID number by mistake; a [`MaskedId`] can only
//! be made by masking, so an API that takes one cannot receive the full number.

use serde::Serialize;

/// An identifier with its middle replaced by `*`, e.g. `110105********002X`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct MaskedId(String);

impl MaskedId {
    /// Keeps `keep_start` leading and `keep_end` trailing characters and masks the rest.
    /// At least a third of the characters (and at least one) are always masked, whatever
    /// the arguments.
    pub fn new(id: &str, keep_start: usize, keep_end: usize) -> MaskedId {
        let chars: Vec<char> = id.chars().collect();
        let n = chars.len();
        let max_visible = n - n.div_ceil(3).max(1).min(n);
        let mut ks = keep_start.min(n);
        let mut ke = keep_end.min(n);
        while ks + ke > max_visible {
            if ks >= ke && ks > 0 {
                ks -= 1;
            } else {
                ke = ke.saturating_sub(1);
            }
        }
        let s = chars
            .iter()
            .enumerate()
            .map(|(i, c)| if i < ks || i >= n - ke { *c } else { '*' })
            .collect();
        MaskedId(s)
    }

    /// The masked text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MaskedId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for MaskedId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MaskedId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_middle() {
        assert_eq!(
            MaskedId::new("11010519491231002X", 6, 4).as_str(),
            "110105********002X"
        );
        assert_eq!(MaskedId::new("L898902C3", 2, 2).as_str(), "L8*****C3");
        // Too generous a request still masks at least a third.
        assert_eq!(MaskedId::new("123456", 6, 6).as_str(), "12**56");
        assert_eq!(MaskedId::new("1", 1, 1).as_str(), "*");
        assert_eq!(MaskedId::new("", 3, 3).as_str(), "");
        assert_eq!(MaskedId::new("中华人民共和国", 1, 1).as_str(), "中*****国");
    }
}
