//! MariaDB's three passwords, generated once and kept in `.workbook/data/mariadb-credentials`
//! for as long as the data they protect (the local data directory, or the docker backend's
//! MariaDB volume): MariaDB sets them when it creates its users, and never again.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::layout::Layout;
use crate::secrets;

/// `root` (admin), `workbook` (the chapters' user) and `cdc` (the CDC source connector).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub root: String,
    pub app: String,
    pub cdc: String,
}

const ROOT: &str = workbook_support::env::MARIADB_ROOT_PASSWORD;
const APP: &str = "WORKBOOK_PASSWORD";
const CDC: &str = "CDC_PASSWORD";

impl Credentials {
    pub fn generate() -> Result<Credentials> {
        Ok(Credentials { root: secrets::password()?, app: secrets::password()?, cdc: secrets::password()? })
    }
}

pub fn file(layout: &Layout) -> PathBuf {
    layout.root.join("data").join("mariadb-credentials")
}

pub fn exists(layout: &Layout) -> bool {
    file(layout).exists()
}

pub fn save(layout: &Layout, c: &Credentials) -> Result<()> {
    let vars = BTreeMap::from([
        (ROOT.to_string(), c.root.clone()),
        (APP.to_string(), c.app.clone()),
        (CDC.to_string(), c.cdc.clone()),
    ]);
    crate::envfile::write_private(
        &file(layout),
        "Passwords of the workbook's MariaDB (deleted by `down --purge`)",
        &vars,
    )
}

pub fn load(layout: &Layout) -> Result<Credentials> {
    let path = file(layout);
    let vars = workbook_support::envfile::read(&path)?;
    let get = |key: &str| vars.get(key).cloned().with_context(|| format!("{key} missing in {}", path.display()));
    Ok(Credentials { root: get(ROOT)?, app: get(APP)?, cdc: get(CDC)? })
}

/// The kept passwords, or new ones (saved at once) when there are none.
pub fn load_or_generate(layout: &Layout) -> Result<Credentials> {
    if exists(layout) {
        return load(layout);
    }
    let credentials = Credentials::generate()?;
    save(layout, &credentials)?;
    Ok(credentials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_passwords_come_back_and_only_the_owner_reads_them() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout { root: dir.path().join(".workbook") };
        assert!(!exists(&layout));
        let first = load_or_generate(&layout).unwrap();
        assert_eq!(load_or_generate(&layout).unwrap(), first, "kept, not regenerated");
        assert_eq!(std::fs::metadata(file(&layout)).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
