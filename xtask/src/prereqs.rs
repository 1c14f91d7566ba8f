//! Prerequisites of the `local` backend, each checked up front with one clear message and the fix.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Result, bail};

/// Directories searched after `PATH`: Debian puts `mariadbd` in /usr/sbin, which a normal
/// user's `PATH` lacks; Homebrew uses /opt/homebrew. Override with `WORKBOOK_EXTRA_BIN_DIRS`
/// (colon-separated; empty to search `PATH` only).
const EXTRA_BIN_DIRS: &str =
    "/usr/sbin:/usr/local/sbin:/opt/homebrew/bin:/opt/homebrew/sbin:/usr/local/opt/mariadb/bin";

/// Finds an executable by name in `PATH`, then in the extra directories.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let extra = std::env::var("WORKBOOK_EXTRA_BIN_DIRS").unwrap_or_else(|_| EXTRA_BIN_DIRS.to_string());
    std::env::split_paths(&path)
        .chain(extra.split(':').filter(|d| !d.is_empty()).map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// The `java` to run Kafka with: `$JAVA_HOME/bin/java`, else `java` on the path; must be 17 or newer.
pub fn java() -> Result<PathBuf> {
    let java = match std::env::var_os("JAVA_HOME").map(|home| PathBuf::from(home).join("bin").join("java")) {
        Some(path) if is_executable(&path) => path,
        _ => match find_program("java") {
            Some(path) => path,
            None => bail!("Java 17 or newer is needed to run Kafka, and no `java` was found.\n{}", JAVA_INSTALL_HINT),
        },
    };
    let output = Command::new(&java).arg("-version").output();
    let text = match output {
        Ok(output) => String::from_utf8_lossy(&output.stderr).into_owned(),
        Err(e) => bail!("{} could not be run ({e}).\n{JAVA_INSTALL_HINT}", java.display()),
    };
    match parse_java_major(&text) {
        Some(major) if major >= 17 => Ok(java),
        Some(major) => {
            bail!("Kafka 4 needs Java 17 or newer; {} is Java {major}.\n{JAVA_INSTALL_HINT}", java.display())
        }
        None => bail!("could not read the version of {}: {text}\n{JAVA_INSTALL_HINT}", java.display()),
    }
}

const JAVA_INSTALL_HINT: &str = "Install it: Debian/Ubuntu `sudo apt-get install openjdk-17-jre-headless`, \
macOS `brew install openjdk@17`; or set JAVA_HOME to a JDK 17+";

/// `openjdk version "17.0.15" 2025-04-15` -> 17; `java version "1.8.0_392"` -> 8.
pub fn parse_java_major(version_output: &str) -> Option<u32> {
    let quoted = version_output.split('"').nth(1)?;
    let mut parts = quoted.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 { parts.next()?.parse().ok() } else { Some(first) }
}

/// The MariaDB server binaries of the `local` backend.
#[derive(Debug, Clone)]
pub struct MariaDbBinaries {
    pub server: PathBuf,
    pub install_db: PathBuf,
}

pub fn mariadb() -> Result<MariaDbBinaries> {
    let server = find_program("mariadbd");
    let install_db = find_program("mariadb-install-db");
    match (server, install_db) {
        (Some(server), Some(install_db)) => Ok(MariaDbBinaries { server, install_db }),
        _ => bail!(
            "MariaDB is not installed (no `mariadbd` / `mariadb-install-db` found).\n\
             Install it: Debian/Ubuntu `sudo apt-get install mariadb-server`, macOS `brew install mariadb`.\n\
             The workbook runs its own private instance; the system service does not need to run"
        ),
    }
}

/// Where Kafka's jars come from: a Kafka distribution at `$KAFKA_HOME`, or Maven.
#[derive(Debug, Clone)]
pub enum JarSource {
    KafkaHome(PathBuf),
    Maven(PathBuf),
}

pub fn jar_source() -> Result<JarSource> {
    if let Some(home) = std::env::var_os("KAFKA_HOME").map(PathBuf::from) {
        if home.join("libs").is_dir() {
            return Ok(JarSource::KafkaHome(home));
        }
        bail!(
            "KAFKA_HOME is set to {}, but it has no libs/ directory: point it at an unpacked Kafka distribution, or unset it to use Maven",
            home.display()
        );
    }
    match maven() {
        Some(mvn) => Ok(JarSource::Maven(mvn)),
        None => bail!(
            "Kafka's jars come from Maven or from a Kafka distribution, and neither was found.\n\
             Install Maven (Debian/Ubuntu `sudo apt-get install maven`, macOS `brew install maven`), \
             or unpack Kafka and set KAFKA_HOME to it"
        ),
    }
}

/// `mvn`, if installed (the Connect plugins always come from Maven).
pub fn maven() -> Option<PathBuf> {
    find_program("mvn")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_modern_and_legacy_java_versions() {
        assert_eq!(parse_java_major("openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime"), Some(17));
        assert_eq!(parse_java_major("openjdk version \"21\" 2023-09-19"), Some(21));
        assert_eq!(parse_java_major("java version \"1.8.0_392\""), Some(8));
        assert_eq!(parse_java_major("no version here"), None);
    }
}
