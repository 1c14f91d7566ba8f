//! Does a chapter crate follow the exercise convention (see `check.rs`)? Checked by `--audit`,
//! so a chapter author learns about a slip from CI rather than from a confused learner.

use super::chapters::Chapter;

/// Every way `chapter` departs from the convention, as sentences; empty when it follows it.
pub fn problems(chapter: &Chapter) -> Vec<String> {
    let mut problems = Vec::new();
    let read = |relative: &str| std::fs::read_to_string(chapter.dir.join(relative)).ok();
    match read("Cargo.toml") {
        Some(text) => problems.extend(manifest_problems(&chapter.package, &text)),
        None => problems.push("has no Cargo.toml".to_string()),
    }
    for file in ["src/exercises.rs", "solutions/exercises.rs", "tests/exercises.rs"] {
        if !chapter.dir.join(file).is_file() {
            problems.push(format!("has no {file}"));
        }
    }
    if let Some(lib) = read("src/lib.rs") {
        if !lib.contains(r#"feature = "solutions""#) || !lib.contains(r#"path = "../solutions/exercises.rs""#) {
            problems.push(
                r#"src/lib.rs must declare `#[cfg_attr(feature = "solutions", path = "../solutions/exercises.rs")] pub mod exercises;`"#
                    .to_string(),
            );
        }
    } else {
        problems.push("has no src/lib.rs".to_string());
    }
    if chapter.exercises.is_empty() {
        problems.push("exercises.toml lists no [[exercise]]".to_string());
    }
    for file in ["src/exercises.rs", "solutions/exercises.rs"] {
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

/// Checks the chapter's Cargo.toml: package named like its directory, a `solutions` feature,
/// and an `exercises` test target that plain `cargo test` skips.
pub fn manifest_problems(package: &str, cargo_toml: &str) -> Vec<String> {
    let Ok(manifest) = cargo_toml.parse::<toml::Table>() else {
        return vec!["Cargo.toml is not valid TOML".to_string()];
    };
    let mut problems = Vec::new();
    let name = manifest.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str());
    if name != Some(package) {
        problems.push(format!("its package must be named like its directory, `{package}` (found {name:?})"));
    }
    if manifest.get("features").and_then(|f| f.get("solutions")).is_none() {
        problems.push("Cargo.toml needs `[features] solutions = []`".to_string());
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
    use crate::check::chapters::Exercise;

    const GOOD_MANIFEST: &str = r#"
[package]
name = "ch99-probe"

[features]
solutions = []

[[test]]
name = "exercises"
path = "tests/exercises.rs"
test = false
"#;

    #[test]
    fn a_conforming_manifest_has_no_problems() {
        assert!(manifest_problems("ch99-probe", GOOD_MANIFEST).is_empty());
    }

    #[test]
    fn names_each_missing_piece() {
        let problems = manifest_problems("ch99-other", "[package]\nname = \"ch99-probe\"\n");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("named like its directory"));
        assert!(problems[1].contains("solutions = []"));
        assert!(problems[2].contains("test = false"));
    }

    #[test]
    fn finds_function_definitions() {
        assert!(defines_fn("pub async fn create_topic(admin: &Admin)", "create_topic"));
        assert!(defines_fn("pub fn pick<T>(x: T)", "pick"));
        assert!(!defines_fn("pub fn create_topic_twice()", "create_topic"));
    }

    #[test]
    fn checks_a_whole_crate_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ch99-probe");
        for sub in ["src", "solutions", "tests"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        std::fs::write(root.join("Cargo.toml"), GOOD_MANIFEST).unwrap();
        std::fs::write(
            root.join("src/lib.rs"),
            "#[cfg_attr(feature = \"solutions\", path = \"../solutions/exercises.rs\")]\npub mod exercises;\n",
        )
        .unwrap();
        std::fs::write(root.join("src/exercises.rs"), "pub fn add(a: u32) -> u32 { todo!() }\n").unwrap();
        std::fs::write(root.join("solutions/exercises.rs"), "pub fn add(a: u32) -> u32 { a }\n").unwrap();
        std::fs::write(root.join("tests/exercises.rs"), "#[test] fn add() {}\n").unwrap();
        let exercise = |name: &str| Exercise { name: name.into(), title: "t".into(), hint: "h".into() };
        let mut chapter = Chapter {
            dir: root.clone(),
            package: "ch99-probe".into(),
            id: "ch99".into(),
            exercises: vec![exercise("add")],
        };
        assert_eq!(problems(&chapter), Vec::<String>::new());

        chapter.exercises.push(exercise("sub"));
        std::fs::remove_file(root.join("solutions/exercises.rs")).unwrap();
        let found = problems(&chapter);
        assert_eq!(
            found,
            ["has no solutions/exercises.rs", "src/exercises.rs has no `fn sub` (listed in exercises.toml)"]
        );
    }
}
