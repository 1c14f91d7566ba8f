//! Noticing that files changed, by polling their modification times.
//!
//! Polling twice a second costs nothing for a few hundred files and works the same on every
//! OS and file system (no `inotify` limits, no editor save-by-rename surprises), so the
//! workbook needs no file-watching dependency. `check --watch` and `book --serve` use it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How often to look at the files again.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// The modification time and size of every file under some paths.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<PathBuf, (Option<SystemTime>, u64)>);

impl Snapshot {
    /// Looks at every file under `paths` (files or directories; missing ones are fine).
    pub fn take(paths: &[PathBuf]) -> Snapshot {
        let mut files = BTreeMap::new();
        for path in paths {
            visit(path, &mut files);
        }
        Snapshot(files)
    }

    /// The files added, removed or modified since `earlier`.
    pub fn changed_since(&self, earlier: &Snapshot) -> Vec<PathBuf> {
        let modified = self.0.iter().filter(|(path, stamp)| earlier.0.get(*path) != Some(stamp)).map(|(path, _)| path);
        let removed = earlier.0.keys().filter(|path| !self.0.contains_key(*path));
        modified.chain(removed).cloned().collect()
    }
}

fn visit(path: &Path, files: &mut BTreeMap<PathBuf, (Option<SystemTime>, u64)>) {
    let Ok(metadata) = path.metadata() else { return };
    if metadata.is_file() {
        files.insert(path.to_path_buf(), (metadata.modified().ok(), metadata.len()));
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        // Build output and editor/VCS state are not sources: skip `target/` and dot-directories.
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        visit(&entry.path(), files);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_added_modified_and_removed_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.rs");
        std::fs::write(&a, "fn a() {}").unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(dir.path().join(".git/index"), "x").unwrap();
        let paths = [dir.path().to_path_buf(), dir.path().join("missing")];
        let before = Snapshot::take(&paths);
        assert!(Snapshot::take(&paths).changed_since(&before).is_empty());

        std::fs::write(&a, "fn a() { todo!() }").unwrap();
        let b = dir.path().join("sub/b.rs");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(&b, "").unwrap();
        std::fs::write(dir.path().join(".git/index"), "changed").unwrap();
        let after = Snapshot::take(&paths);
        assert_eq!(after.changed_since(&before), [a.clone(), b]);

        std::fs::remove_file(&a).unwrap();
        assert_eq!(Snapshot::take(&paths).changed_since(&after), [a]);
    }
}
