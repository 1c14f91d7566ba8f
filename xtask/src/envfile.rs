//! Writing dotenv files: `.workbook/env` (the addresses every chapter reads) and the kept MariaDB
//! passwords. Reading them belongs to the support crate (`workbook_support::envfile`), since the
//! chapters read them too.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};

/// `# header` lines, then one `KEY=value` line per variable, unquoted: our values never hold
/// spaces, `#`, quotes or `$`, which a dotenv reader would interpret.
pub fn render(header: &str, vars: &BTreeMap<String, String>) -> String {
    let mut text = String::new();
    for line in header.lines() {
        text.push_str(&format!("# {line}\n"));
    }
    for (key, value) in vars {
        text.push_str(&format!("{key}={value}\n"));
    }
    text
}

/// Writes `vars` to `path`, readable and writable by you only: these files hold passwords.
pub fn write_private(path: &Path, header: &str, vars: &BTreeMap<String, String>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, render(header, vars)).with_context(|| format!("writing {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("restricting {} to its owner", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("KAFKA_BOOTSTRAP_SERVERS".to_string(), "127.0.0.1:9092".to_string()),
            ("DATABASE_URL".to_string(), "mysql://u:p@127.0.0.1:3307/mydb".to_string()),
        ])
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let text = render("written by a test\nsecond line", &vars());
        assert!(text.starts_with("# written by a test\n# second line\n"), "{text}");
        assert_eq!(workbook_support::envfile::parse(&text).unwrap(), vars());
    }

    #[test]
    fn only_the_owner_reads_a_written_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("env");
        write_private(&path, "test", &vars()).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(workbook_support::envfile::read(&path).unwrap(), vars());
    }
}
