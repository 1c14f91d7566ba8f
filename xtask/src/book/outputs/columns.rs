//! Columns a line takes in the book's monospace font. `cargo xtask book` cuts shown outputs to
//! the page with it, and `tests/tests/listings_fit.rs` (through `#[path]`) measures the chapters'
//! listings with it: both count a line the same way.

/// Columns a line takes in a monospace font: a tab goes to the next multiple of 8 (the
/// browser's `tab-size`; Kafka's tools separate columns with tabs), wide (CJK, Hangul,
/// fullwidth) characters take two.
pub fn width(line: &str) -> usize {
    expand_tabs(line).chars().map(char_width).sum()
}

/// The line with each tab replaced by the spaces up to the next multiple of 8 columns.
pub fn expand_tabs(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut column = 0;
    for c in line.chars() {
        if c == '\t' {
            let spaces = 8 - column % 8;
            out.extend(std::iter::repeat_n(' ', spaces));
            column += spaces;
        } else {
            out.push(c);
            column += char_width(c);
        }
    }
    out
}

/// Two columns for a wide character (CJK, Hangul, fullwidth forms), one for any other.
pub fn char_width(c: char) -> usize {
    match c as u32 {
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 => 2,
        _ => 1,
    }
}
