//! The `.workbook/env` file: `KEY=value` lines, as dotenv tools read them.
//!
//! `cargo xtask up` writes it; [`crate::Env::load`] reads it with [`dotenvy`], the parser other
//! dotenv tools share: `#` comments, `export KEY=value`, single or double quotes, and `$VAR`
//! expansion outside single quotes. Nothing is put into the process environment.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Parses dotenv text into ordered key/value pairs.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>> {
    let mut vars = BTreeMap::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((key, value)) => {
                vars.insert(key, value);
            }
            // dotenvy names the line by its text; say where it is, as an editor would.
            Err(dotenvy::Error::LineParse(line, _)) => {
                let number =
                    text.lines().position(|l| l.trim() == line.trim()).map_or(0, |n| n + 1);
                bail!("line {number}: expected KEY=value, found {:?}", line.trim());
            }
            Err(error) => return Err(error).context("reading dotenv text"),
        }
    }
    Ok(vars)
}

/// Reads and parses an env file.
pub fn read(path: &Path) -> Result<BTreeMap<String, String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comments_quotes_and_export() {
        let vars = parse("# made by xtask\nA=1\nexport B=\"two\"\n\nC='x=y'\n").unwrap();
        assert_eq!(vars["A"], "1");
        assert_eq!(vars["B"], "two");
        assert_eq!(vars["C"], "x=y");
    }

    #[test]
    fn rejects_a_line_without_equals() {
        let err = parse("A=1\noops\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
