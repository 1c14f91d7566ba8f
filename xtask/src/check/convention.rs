//! Does a chapter crate follow the exercise convention (see `check.rs`)? Checked by `--audit`,
//! so a chapter author learns about a slip from CI rather than from a confused learner.

use std::path::Path;

use super::chapters::Chapter;

/// Every way `chapter` departs from the convention, as sentences; empty when it follows it.
pub fn problems(chapter: &Chapter) -> Vec<String> {
    let mut problems = Vec::new();
    let read = |relative: &str| std::fs::read_to_string(chapter.dir.join(relative)).ok();
    match read("Cargo.toml") {
        Some(text) => problems.extend(manifest_problems(&chapter.package, &text)),
        None => problems.push("has no Cargo.toml".to_string()),
    }
    for file in ["src/exercises.rs", "solutions/exercises.rs", "mistakes/exercises.rs", "tests/exercises.rs"] {
        if !chapter.dir.join(file).is_file() {
            problems.push(format!("has no {file}"));
        }
    }
    if read("src/lib.rs").is_some_and(|lib| declares_exercises(&lib)) {
        problems.push(
            "src/lib.rs must not declare `mod exercises`: the exercises belong to the test target alone, so a \
             learner's typo breaks only this chapter's exercises"
                .to_string(),
        );
    }
    for file in library_files_reaching_exercises(&chapter.dir.join("src")) {
        problems.push(format!(
            "{file} compiles an exercises.rs (#[path] or include!): the chapter's library must not, so that \
             a learner's typo breaks only this chapter's exercises and no chapter that uses the library"
        ));
    }
    if let Some(tests) = read("tests/exercises.rs") {
        for path in EXERCISE_PATHS {
            if !tests.contains(&format!("path = \"{path}\"")) {
                problems
                    .push(format!("tests/exercises.rs must declare `mod exercises` with a #[cfg_attr] path to {path}"));
            }
        }
    }
    if chapter.exercises.is_empty() {
        problems.push("exercises.toml lists no [[exercise]]".to_string());
    }
    for exercise in &chapter.exercises {
        let translated = exercise.ko.iter().map(|ko| ("[exercise.ko] hint", ko.hint.as_str()));
        for (which, hint) in std::iter::once(("hint", exercise.hint.as_str())).chain(translated) {
            if !opens_with_a_question(hint) {
                problems.push(format!(
                    "the {which} of `{}` must open with a question (its first sentence ends with `?`): a hint \
                     leads the learner towards the answer instead of stating it",
                    exercise.name
                ));
            }
        }
    }
    for file in ["src/exercises.rs", "solutions/exercises.rs", "mistakes/exercises.rs"] {
        if let Some(text) = read(file) {
            for exercise in &chapter.exercises {
                if !defines_fn(&text, &exercise.name) {
                    problems.push(format!("{file} has no `fn {}` (listed in exercises.toml)", exercise.name));
                }
            }
        }
    }
    problems
}

/// The three files `tests/exercises.rs` compiles as `mod exercises`, one per feature set.
const EXERCISE_PATHS: [&str; 3] = ["../src/exercises.rs", "../solutions/exercises.rs", "../mistakes/exercises.rs"];

/// Does `lib` declare the exercises module (`mod exercises;`)?
fn declares_exercises(lib: &str) -> bool {
    lib.lines().any(|line| {
        let line = line.trim();
        line.ends_with("mod exercises;") && !line.starts_with("//")
    })
}

/// Checks the chapter's Cargo.toml: package named like its directory, `solutions` and `mistakes`
/// features, and an `exercises` test target that plain `cargo test` skips.
pub fn manifest_problems(package: &str, cargo_toml: &str) -> Vec<String> {
    let Ok(manifest) = cargo_toml.parse::<toml::Table>() else {
        return vec!["Cargo.toml is not valid TOML".to_string()];
    };
    let mut problems = Vec::new();
    let name = manifest.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str());
    if name != Some(package) {
        problems.push(format!("its package must be named like its directory, `{package}` (found {name:?})"));
    }
    for feature in ["solutions", "mistakes"] {
        if manifest.get("features").and_then(|f| f.get(feature)).is_none() {
            problems.push(format!("Cargo.toml needs `[features] {feature} = []`"));
        }
    }
    let tests = manifest.get("test").and_then(|t| t.as_array()).cloned().unwrap_or_default();
    let exercises = tests.iter().find(|t| t.get("name").and_then(|n| n.as_str()) == Some("exercises"));
    let skipped = exercises.and_then(|t| t.get("test")).and_then(|t| t.as_bool()) == Some(false);
    if !skipped {
        problems.push(
            r#"Cargo.toml needs `[[test]] name = "exercises" path = "tests/exercises.rs" test = false` (plain `cargo test` must skip the stubs)"#
                .to_string(),
        );
    }
    problems
}

/// The files of the chapter's library (every `.rs` under `src/` but the exercise file itself and
/// the programs, `main.rs` and `bin/`) that pull an `exercises.rs` in with `#[path]` or `include!`,
/// relative to `src/`. Another chapter may use this library; the exercises must not be part of it.
fn library_files_reaching_exercises(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for path in entries.flatten().map(|entry| entry.path()) {
            let relative = path.strip_prefix(src).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            if matches!(relative.as_str(), "exercises.rs" | "main.rs" | "bin") {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else if relative.ends_with(".rs")
                && std::fs::read_to_string(&path).is_ok_and(|text| reaches_exercises(&text))
            {
                found.push(format!("src/{relative}"));
            }
        }
    }
    found.sort();
    found
}

/// Does `source` compile an `exercises.rs` through a `#[path]` attribute or `include!`?
fn reaches_exercises(source: &str) -> bool {
    source
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("//"))
        .any(|line| line.contains("exercises.rs\"") && (line.contains("#[path") || line.contains("include!")))
}

/// Does `hint` open with a question: is the end of its first sentence a `?` (not a `.` or `!`
/// followed by a space, as in "The broker refuses it. Why?")? A `.` inside a name such as
/// `pool.begin()` ends no sentence.
fn opens_with_a_question(hint: &str) -> bool {
    let hint = hint.trim();
    let ends_sentence = |(at, c): &(usize, char)| match c {
        '?' => true,
        '.' | '!' => hint[at + c.len_utf8()..].chars().next().is_none_or(char::is_whitespace),
        _ => false,
    };
    hint.char_indices().find(ends_sentence).is_some_and(|(_, c)| c == '?')
}

/// Does `source` define a function called `name` (`fn name(` or `fn name<`)?
fn defines_fn(source: &str, name: &str) -> bool {
    source.match_indices(&format!("fn {name}")).any(|(at, found)| {
        let after = source[at + found.len()..].trim_start();
        after.starts_with('(') || after.starts_with('<')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::chapters::{Exercise, Translated};

    const GOOD_MANIFEST: &str = r#"
[package]
name = "ch99-probe"

[features]
solutions = []
mistakes = []

[[test]]
name = "exercises"
path = "tests/exercises.rs"
test = false
"#;

    const TESTS: &str = r#"
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;
#[test] fn add() {}
"#;

    #[test]
    fn a_conforming_manifest_has_no_problems() {
        assert!(manifest_problems("ch99-probe", GOOD_MANIFEST).is_empty());
    }

    #[test]
    fn names_each_missing_piece() {
        let problems = manifest_problems("ch99-other", "[package]\nname = \"ch99-probe\"\n");
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("named like its directory"));
        assert!(problems[1].contains("solutions = []"));
        assert!(problems[2].contains("mistakes = []"));
        assert!(problems[3].contains("test = false"));
    }

    #[test]
    fn finds_function_definitions() {
        assert!(defines_fn("pub async fn create_topic(admin: &Admin)", "create_topic"));
        assert!(defines_fn("pub fn pick<T>(x: T)", "pick"));
        assert!(!defines_fn("pub fn create_topic_twice()", "create_topic"));
        assert!(reaches_exercises("#[path = \"exercises.rs\"]\nmod answers;\n"));
        assert!(reaches_exercises("include!(\"../solutions/exercises.rs\");\n"));
        assert!(!reaches_exercises("// #[path = \"exercises.rs\"]\n//! see src/exercises.rs\n"));
        assert!(declares_exercises("//! lib\npub mod exercises;\n"));
        assert!(!declares_exercises("// pub mod exercises;\npub mod topics;\n"));
    }

    /// The convention holds for the workbook's own chapters without a running environment, so a
    /// slip shows up in `cargo test` before the audit runs.
    #[test]
    fn every_chapter_of_the_workbook_follows_it() {
        let root = workbook_support::env::workspace_root();
        let chapters = crate::check::chapters::discover(&root.join("chapters")).unwrap();
        assert!(!chapters.is_empty(), "no chapter found under {}", root.display());
        let found: Vec<String> = chapters
            .iter()
            .flat_map(|chapter| problems(chapter).into_iter().map(move |p| format!("{}: {p}", chapter.package)))
            .collect();
        assert!(found.is_empty(), "{}", found.join("\n"));
    }

    #[test]
    fn a_hint_opens_with_a_question() {
        assert!(opens_with_a_question("What does `pool.begin()` give you? Then commit."));
        assert!(opens_with_a_question("The topic has no key: who decides where it goes?"));
        assert!(opens_with_a_question("키가 없다면, 레코드가 어디로 갈지는 누가 정할까요? 그리고…"));
        assert!(!opens_with_a_question("Chapter 10's sink inserted rows. What does it do with a second one?"));
        assert!(!opens_with_a_question("Use insert.mode=upsert."));
        assert!(!opens_with_a_question("10장의 싱크는 행을 삽입했습니다. 두 번째 이벤트는요?"));
        assert!(!opens_with_a_question(""));
    }

    /// An exercise named `name` whose hints (English and Korean) ask.
    fn asking(name: &str) -> Exercise {
        let hint = format!("What does {name} need?");
        let ko =
            Translated { title: format!("{name} 제목"), hint: format!("{name}에는 무엇이 필요할까요?") };
        Exercise { hint, ko: Some(ko), ..Exercise::named(name) }
    }

    #[test]
    fn checks_a_whole_crate_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ch99-probe");
        for sub in ["src", "solutions", "mistakes", "tests"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        std::fs::write(root.join("Cargo.toml"), GOOD_MANIFEST).unwrap();
        std::fs::write(root.join("src/lib.rs"), "//! The chapter.\n").unwrap();
        std::fs::write(root.join("src/exercises.rs"), "pub fn add(a: u32) -> u32 { todo!() }\n").unwrap();
        std::fs::write(root.join("solutions/exercises.rs"), "pub fn add(a: u32) -> u32 { a }\n").unwrap();
        std::fs::write(root.join("mistakes/exercises.rs"), "pub fn add(a: u32) -> u32 { a + 1 }\n").unwrap();
        std::fs::write(root.join("tests/exercises.rs"), TESTS).unwrap();
        let mut chapter = Chapter {
            dir: root.clone(),
            package: "ch99-probe".into(),
            id: "ch99".into(),
            exercises: vec![asking("add")],
        };
        assert_eq!(problems(&chapter), Vec::<String>::new());

        chapter.exercises.push(Exercise { hint: "Subtract.".into(), ..asking("sub") });
        std::fs::remove_file(root.join("solutions/exercises.rs")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "pub mod exercises;\nmod helpers;\n").unwrap();
        std::fs::write(root.join("src/helpers.rs"), "#[path = \"exercises.rs\"]\nmod answers;\n").unwrap();
        let found = problems(&chapter);
        assert_eq!(found.len(), 6, "{found:?}");
        assert_eq!(found[0], "has no solutions/exercises.rs");
        assert!(found[1].starts_with("src/lib.rs must not declare `mod exercises`"), "{found:?}");
        assert!(found[2].starts_with("src/helpers.rs compiles an exercises.rs"), "{found:?}");
        assert!(found[3].starts_with("the hint of `sub` must open with a question"), "{found:?}");
        assert_eq!(found[4], "src/exercises.rs has no `fn sub` (listed in exercises.toml)");
        assert_eq!(found[5], "mistakes/exercises.rs has no `fn sub` (listed in exercises.toml)");
    }
}
