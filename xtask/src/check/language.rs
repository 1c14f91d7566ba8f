//! The language the checker speaks. Every exercise's title and hint also exist in Korean
//! (`[exercise.ko]` in its `exercises.toml`); `--lang ko`, or a Korean locale (`LANG=ko_KR.UTF-8`),
//! picks them. The tests, and what they say when they fail, are the same in every language.

use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    #[default]
    En,
    Ko,
}

static CHOSEN: OnceLock<Language> = OnceLock::new();

/// Settles the language for this run: the one asked for, else the locale's.
pub fn choose(asked: Option<Language>) {
    let _ = CHOSEN.set(asked.unwrap_or_else(from_locale));
}

pub fn chosen() -> Language {
    *CHOSEN.get_or_init(from_locale)
}

/// The locale as POSIX reads it: the first of LC_ALL, LC_MESSAGES and LANG that is set.
fn from_locale() -> Language {
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
        .unwrap_or_default();
    language_of(&locale)
}

fn language_of(locale: &str) -> Language {
    if locale.starts_with("ko") { Language::Ko } else { Language::En }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_korean_locale_means_korean() {
        assert_eq!(language_of("ko_KR.UTF-8"), Language::Ko);
        assert_eq!(language_of("ko"), Language::Ko);
        assert_eq!(language_of("en_US.UTF-8"), Language::En);
        assert_eq!(language_of("C.UTF-8"), Language::En);
        assert_eq!(language_of(""), Language::En);
    }
}
