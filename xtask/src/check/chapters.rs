//! Finding the chapters that have exercises, and naming exercises the way a learner types them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::language::{self, Language};

/// One exercise, as `exercises.toml` lists it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// The function in `src/exercises.rs`, and the test in `tests/exercises.rs`.
    pub name: String,
    /// A one-line description for the progress table.
    pub title: String,
    /// A question that leads towards the answer (never the answer).
    pub hint: String,
    /// Seconds the exercise's test may take before the checker stops it ("timed out").
    #[serde(default = "default_deadline")]
    pub deadline: u64,
    /// The known-wrong answers of `mistakes/exercises.rs` that the test must reject.
    #[serde(default, rename = "mistake")]
    pub mistakes: Vec<Mistake>,
    /// The title and hint in Korean (`[exercise.ko]`).
    #[serde(default)]
    pub ko: Option<Translated>,
}

/// An exercise's title and hint in another language.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Translated {
    pub title: String,
    pub hint: String,
}

/// A known-wrong answer: the audit runs the exercise's test with it and expects a failure that says so.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Mistake {
    /// Its name in `mistakes/exercises.rs` (what `WORKBOOK_MISTAKE` selects).
    pub name: String,
    /// The mistake in one line, as a learner would make it.
    pub what: String,
    /// Text the test's failure must contain: the message that names the mistake.
    pub says: String,
}

/// Long enough for a connector to start and capture on a busy laptop; an exercise may ask for more.
pub const DEFAULT_DEADLINE_SECS: u64 = 120;

fn default_deadline() -> u64 {
    DEFAULT_DEADLINE_SECS
}

impl Exercise {
    /// An exercise with just a name (and placeholder texts), for tests.
    #[cfg(test)]
    pub fn named(name: &str) -> Exercise {
        Exercise {
            name: name.into(),
            title: format!("title of {name}"),
            hint: format!("hint of {name}"),
            deadline: DEFAULT_DEADLINE_SECS,
            mistakes: Vec::new(),
            ko: None,
        }
    }

    /// The title in the language the checker speaks (English where no translation exists).
    pub fn title(&self) -> &str {
        self.translated().map_or(&self.title, |t| &t.title)
    }

    /// The hint in the language the checker speaks.
    pub fn hint(&self) -> &str {
        self.translated().map_or(&self.hint, |t| &t.hint)
    }

    fn translated(&self) -> Option<&Translated> {
        match language::chosen() {
            Language::En => None,
            Language::Ko => self.ko.as_ref(),
        }
    }

    pub fn deadline(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.deadline)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    #[serde(default)]
    exercise: Vec<Exercise>,
}

/// A chapter crate with exercises: `chapters/chNN-topic/` holding an `exercises.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    /// `chapters/ch03-topics`
    pub dir: PathBuf,
    /// The cargo package, also the directory name: `ch03-topics`.
    pub package: String,
    /// The short name a learner types: `ch03`.
    pub id: String,
    /// In the order a learner should do them.
    pub exercises: Vec<Exercise>,
}

impl Chapter {
    /// `ch03::create_topic_idempotently`, the name `cargo xtask hint` accepts.
    pub fn qualified(&self, exercise: &Exercise) -> String {
        format!("{}::{}", self.id, exercise.name)
    }

    /// `chapters/ch03-topics`, as a learner would type it from the workspace root.
    pub fn shown_dir(&self) -> String {
        format!("chapters/{}", self.package)
    }

    /// The files whose change means "check this chapter again".
    pub fn watched_paths(&self) -> Vec<PathBuf> {
        ["src", "solutions", "tests", "exercises.toml"].iter().map(|p| self.dir.join(p)).collect()
    }
}

/// Every `chapters/ch*/` directory with an `exercises.toml`, sorted by name.
pub fn discover(chapters_dir: &Path) -> Result<Vec<Chapter>> {
    let mut chapters = Vec::new();
    if !chapters_dir.is_dir() {
        return Ok(chapters);
    }
    let entries = std::fs::read_dir(chapters_dir).with_context(|| format!("listing {}", chapters_dir.display()))?;
    for entry in entries {
        let dir = entry?.path();
        let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        let manifest = dir.join("exercises.toml");
        if name.starts_with("ch") && manifest.is_file() {
            chapters.push(load(&dir, &name, &manifest)?);
        }
    }
    chapters.sort_by(|a, b| a.package.cmp(&b.package));
    Ok(chapters)
}

fn load(dir: &Path, package: &str, manifest: &Path) -> Result<Chapter> {
    let text = std::fs::read_to_string(manifest).with_context(|| format!("reading {}", manifest.display()))?;
    let exercises =
        parse_manifest(&text).with_context(|| format!("{} is not a valid exercise list", manifest.display()))?;
    Ok(Chapter {
        dir: dir.to_path_buf(),
        package: package.to_string(),
        id: package.split('-').next().unwrap_or(package).to_string(),
        exercises,
    })
}

/// Parses `exercises.toml`; a duplicate or empty name is an error here, not a puzzle later.
pub fn parse_manifest(text: &str) -> Result<Vec<Exercise>> {
    let manifest: Manifest = toml::from_str(text)?;
    let mut seen = std::collections::BTreeSet::new();
    for exercise in &manifest.exercise {
        if exercise.name.trim().is_empty() || exercise.hint.trim().is_empty() {
            bail!("every [[exercise]] needs a name and a hint");
        }
        if !seen.insert(exercise.name.as_str()) {
            bail!("exercise `{}` is listed twice", exercise.name);
        }
        for mistake in &exercise.mistakes {
            if mistake.name.trim().is_empty() || mistake.says.trim().is_empty() {
                bail!("every [[exercise.mistake]] of `{}` needs a name and what the test says", exercise.name);
            }
        }
    }
    Ok(manifest.exercise)
}

/// Picks the chapters named on the command line (`ch03` or `ch03-topics`); all when none are.
pub fn select(all: &[Chapter], wanted: &[String]) -> Result<Vec<Chapter>> {
    if wanted.is_empty() {
        return Ok(all.to_vec());
    }
    let mut selected: Vec<Chapter> = Vec::new();
    for name in wanted {
        let name = name.trim_end_matches('/').rsplit('/').next().unwrap_or(name);
        match all.iter().find(|c| c.id == name || c.package == name) {
            Some(chapter) if !selected.contains(chapter) => selected.push(chapter.clone()),
            Some(_) => {}
            None => bail!("there is no chapter `{name}` with exercises. {}", list_chapters(all)),
        }
    }
    Ok(selected)
}

/// The exercises named on the command line, in learning order: `ch03` (a chapter), `ch03::name` or
/// a bare exercise name (one exercise); every exercise when none are named.
pub fn select_exercises<'a>(all: &'a [Chapter], wanted: &[String]) -> Result<Vec<(&'a Chapter, &'a Exercise)>> {
    let mut selected: Vec<(&Chapter, &Exercise)> = Vec::new();
    let every = all.iter().flat_map(|c| c.exercises.iter().map(move |e| (c, e)));
    if wanted.is_empty() {
        return Ok(every.collect());
    }
    for name in wanted {
        let name = name.trim_end_matches('/').rsplit('/').next().unwrap_or(name);
        let found: Vec<(&Chapter, &Exercise)> = match all.iter().find(|c| c.id == name || c.package == name) {
            Some(chapter) => chapter.exercises.iter().map(|e| (chapter, e)).collect(),
            None => vec![find_exercise(all, name)?],
        };
        for pair in found {
            if !selected.iter().any(|(c, e)| c.package == pair.0.package && e.name == pair.1.name) {
                selected.push(pair);
            }
        }
    }
    // Learning order, whatever order they were typed in.
    let order: Vec<(&Chapter, &Exercise)> = every.collect();
    selected.sort_by_key(|(c, e)| order.iter().position(|(oc, oe)| oc.package == c.package && oe.name == e.name));
    Ok(selected)
}

fn list_chapters(all: &[Chapter]) -> String {
    if all.is_empty() {
        return "No chapter has exercises yet.".to_string();
    }
    let names: Vec<String> = all.iter().map(|c| format!("{} ({})", c.id, c.package)).collect();
    format!("Chapters with exercises: {}", names.join(", "))
}

/// Finds an exercise by `ch03::name`, `ch03-topics::name`, or a bare `name` if only one chapter has it.
pub fn find_exercise<'a>(all: &'a [Chapter], wanted: &str) -> Result<(&'a Chapter, &'a Exercise)> {
    let (chapter, name) = match wanted.rsplit_once("::") {
        Some((chapter, name)) => (Some(chapter), name),
        None => (None, wanted),
    };
    let matches: Vec<(&Chapter, &Exercise)> = all
        .iter()
        .filter(|c| chapter.is_none_or(|wanted| c.id == wanted || c.package == wanted))
        .flat_map(|c| c.exercises.iter().filter(|e| e.name == name).map(move |e| (c, e)))
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => bail!("there is no exercise `{wanted}`. {}", list_exercises(all)),
        several => {
            let names: Vec<String> = several.iter().map(|(c, e)| c.qualified(e)).collect();
            bail!("`{wanted}` is in several chapters; say which: {}", names.join(", "))
        }
    }
}

fn list_exercises(all: &[Chapter]) -> String {
    let names: Vec<String> = all.iter().flat_map(|c| c.exercises.iter().map(|e| c.qualified(e))).collect();
    if names.is_empty() {
        return "No chapter has exercises yet.".to_string();
    }
    format!("Exercises: {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[[exercise]]
name = "create_topic_idempotently"
title = "Create a topic, twice"
hint = """
What does the broker answer when the topic already exists?
"""

[[exercise]]
name = "find_leader"
title = "Find the leader of a partition"
hint = "Which part of the metadata names a partition's leader?"
"#;

    fn chapter(package: &str, names: &[&str]) -> Chapter {
        let exercises = names.iter().map(|n| Exercise::named(n)).collect();
        Chapter {
            dir: PathBuf::from("chapters").join(package),
            package: package.to_string(),
            id: package[..4].to_string(),
            exercises,
        }
    }

    #[test]
    fn parses_exercises_in_order() {
        let exercises = parse_manifest(MANIFEST).unwrap();
        let names: Vec<&str> = exercises.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["create_topic_idempotently", "find_leader"]);
        assert!(exercises[0].hint.starts_with("What does the broker answer"));
    }

    #[test]
    fn rejects_duplicates_and_unknown_keys() {
        let twice = "[[exercise]]\nname='a'\ntitle='t'\nhint='h'\n[[exercise]]\nname='a'\ntitle='t'\nhint='h'\n";
        assert!(parse_manifest(twice).unwrap_err().to_string().contains("listed twice"));
        assert!(parse_manifest("[[exercise]]\nname='a'\ntitle='t'\nhint='h'\nsolution='x'\n").is_err());
        assert!(parse_manifest("[[exercise]]\nname='a'\ntitle='t'\nhint=''\n").is_err());
    }

    #[test]
    fn discovers_chapters_with_a_manifest_only() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["ch03-topics", "ch01-why-kafka", "support", "ch02-brokers"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join("ch03-topics/exercises.toml"), MANIFEST).unwrap();
        std::fs::write(dir.path().join("ch01-why-kafka/exercises.toml"), MANIFEST).unwrap();
        std::fs::write(dir.path().join("support/exercises.toml"), MANIFEST).unwrap();
        let found = discover(dir.path()).unwrap();
        let names: Vec<(&str, &str)> = found.iter().map(|c| (c.id.as_str(), c.package.as_str())).collect();
        assert_eq!(names, [("ch01", "ch01-why-kafka"), ("ch03", "ch03-topics")]);
        assert!(discover(&dir.path().join("nowhere")).unwrap().is_empty());
    }

    #[test]
    fn selects_by_short_or_full_name() {
        let all = [chapter("ch01-why-kafka", &["a"]), chapter("ch03-topics", &["b"])];
        assert_eq!(select(&all, &[]).unwrap().len(), 2);
        let picked = select(&all, &["ch03".into(), "chapters/ch01-why-kafka/".into(), "ch03-topics".into()]).unwrap();
        let names: Vec<&str> = picked.iter().map(|c| c.package.as_str()).collect();
        assert_eq!(names, ["ch03-topics", "ch01-why-kafka"]);
        let err = select(&all, &["ch3".into()]).unwrap_err().to_string();
        assert!(err.contains("no chapter `ch3`") && err.contains("ch01 (ch01-why-kafka), ch03 (ch03-topics)"), "{err}");
        assert!(select(&[], &["ch01".into()]).unwrap_err().to_string().contains("No chapter has exercises yet"));
    }

    #[test]
    fn selects_exercises_by_chapter_or_name_in_learning_order() {
        let all = [chapter("ch01-why-kafka", &["a", "b"]), chapter("ch03-topics", &["c", "d"])];
        let names = |wanted: &[&str]| -> Vec<String> {
            let wanted: Vec<String> = wanted.iter().map(|w| w.to_string()).collect();
            select_exercises(&all, &wanted).unwrap().iter().map(|(c, e)| c.qualified(e)).collect()
        };
        assert_eq!(names(&[]), ["ch01::a", "ch01::b", "ch03::c", "ch03::d"]);
        assert_eq!(names(&["ch03::d", "ch01"]), ["ch01::a", "ch01::b", "ch03::d"]);
        assert_eq!(names(&["c", "ch03"]), ["ch03::c", "ch03::d"]);
        assert!(select_exercises(&all, &["ch03::zz".to_string()]).is_err());
    }

    #[test]
    fn finds_exercises_by_any_name() {
        let all = [chapter("ch01-why-kafka", &["round_trip", "shared"]), chapter("ch03-topics", &["create", "shared"])];
        assert_eq!(find_exercise(&all, "create").unwrap().1.name, "create");
        assert_eq!(find_exercise(&all, "ch01::shared").unwrap().0.package, "ch01-why-kafka");
        assert_eq!(find_exercise(&all, "ch03-topics::shared").unwrap().0.id, "ch03");
        let err = find_exercise(&all, "shared").unwrap_err().to_string();
        assert!(err.contains("ch01::shared, ch03::shared"), "{err}");
        let err = find_exercise(&all, "nope").unwrap_err().to_string();
        assert!(err.contains("ch01::round_trip") && err.contains("ch03::create"), "{err}");
    }
}
