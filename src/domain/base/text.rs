//! Characters a name must not carry because they hide or reorder what a reader sees: invisible
//! (zero-width, soft hyphen, fillers, variation selectors, tags) and bidirectional controls (U+202A–
//! U+202E, U+2066–U+2069, …). Names are refused with them; stored text that has them is shown escaped.

/// True for an invisible or bidi-control character (control characters included).
pub fn is_invisible_or_bidi(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{205F}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// The first invisible or bidi-control character in `text`, if any.
pub fn first_invisible(text: &str) -> Option<char> {
    text.chars().find(|c| is_invisible_or_bidi(*c))
}

/// `text` with every invisible or bidi-control character written as a `\u{…}` escape.
pub fn escape_invisible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_invisible_or_bidi(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_are_found_and_escaped() {
        assert_eq!(first_invisible("pm\u{200B}1"), Some('\u{200B}'));
        assert_eq!(first_invisible("evil\u{202E}gpj.exe"), Some('\u{202E}'));
        assert_eq!(first_invisible("Café 默认 pm-1"), None);
        assert_eq!(escape_invisible("a\u{202E}b"), "a\\u{202e}b");
        assert_eq!(escape_invisible("plain"), "plain");
    }
}
