//! A learner's typo breaks only that exercise, proven on a copy of this very workspace: a syntax
//! error goes into chapter 9's exercise file, the chapter whose library chapters 10, 11, 12, 16
//! and 17 build on, and everything else must still compile, `cargo xtask` included.
//!
//! (xtask's own test `a_typo_breaks_only_its_own_chapter` shows the checker's verdicts on a small
//! stand-in workspace; this one shows that the real dependency graph allows them.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use workbook_tests::workspace_root;

const BROKEN: &str = "chapters/ch09-source/src/exercises.rs";

#[test]
fn a_typo_in_one_exercise_file_leaves_every_other_crate_building() {
    let copy = tempfile::tempdir().unwrap();
    copy_tracked_files(&workspace_root(), copy.path());
    let exercises = copy.path().join(BROKEN);
    let mut text = std::fs::read_to_string(&exercises).unwrap();
    text.push_str("\npub fn half_typed(records: &[String] {\n");
    std::fs::write(&exercises, text).unwrap();

    let broken = cargo_check(copy.path(), &["-p", "ch09-source", "--test", "exercises"]);
    let said = String::from_utf8_lossy(&broken.stderr);
    assert!(!broken.status.success(), "the broken exercise file must not compile:\n{said}");
    // cargo names it as the test target includes it (`tests/../src/exercises.rs`).
    let placed = said.contains("chapters/ch09-source/") && said.contains("src/exercises.rs:");
    assert!(placed, "the error is placed in the learner's file:\n{said}");

    for (what, args) in [
        ("chapter 9's library and its program", &["-p", "ch09-source", "--lib", "--bins"][..]),
        (
            "the chapters built on chapter 9, their exercise tests included",
            &[
                "-p",
                "ch10-sink",
                "-p",
                "ch11-order-service",
                "-p",
                "ch12-data-sync",
                "-p",
                "ch16-compaction",
                "-p",
                "ch17-schema-change",
                "--all-targets",
            ][..],
        ),
        ("cargo xtask", &["-p", "xtask", "--bins"][..]),
    ] {
        let output = cargo_check(copy.path(), args);
        assert!(
            output.status.success(),
            "{what} must still build with a typo in {BROKEN}:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Every file git tracks, as it is in the working tree (no `target/`, no `.workbook/`).
fn copy_tracked_files(from: &Path, to: &Path) {
    let listed = Command::new("git").current_dir(from).args(["ls-files", "-z"]).output().unwrap();
    assert!(listed.status.success(), "git ls-files: {}", String::from_utf8_lossy(&listed.stderr));
    for relative in listed.stdout.split(|&b| b == 0).filter(|p| !p.is_empty()) {
        let relative = PathBuf::from(String::from_utf8(relative.to_vec()).unwrap());
        let source = from.join(&relative);
        // A file deleted in the working tree but not yet in git's index.
        if !source.is_file() {
            continue;
        }
        let target = to.join(&relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&source, &target).unwrap();
    }
}

/// `cargo check ARGS` in the copy, with this workspace's target directory: the dependencies are
/// the same (same Cargo.lock), so only the copy's own crates are checked again.
fn cargo_check(copy: &Path, args: &[&str]) -> Output {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    Command::new(env!("CARGO"))
        .current_dir(copy)
        .env("CARGO_TARGET_DIR", target)
        .args(["check", "--quiet", "--message-format=short"])
        .args(args)
        .output()
        .unwrap()
}
