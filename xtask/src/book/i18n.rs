//! The book's other editions, kept with gettext as Comprehensive Rust keeps its own.
//!
//! The English pages are the source. Every paragraph, heading, list item and table cell of them
//! (after `{{#include}}`) is a *message*; `book/po/<lang>.po` holds each message's translation.
//! Code listings and command outputs are not messages: they are the same in every edition.
//! When an English paragraph changes, its message changes, and [`update_po`] turns the old
//! translation into a *fuzzy* one (kept, but flagged for review) instead of letting the two
//! editions drift apart in silence.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use mdbook_driver::MDBook;
use mdbook_driver::config::Config;
use mdbook_i18n_helpers::renderers::Xgettext;
use mdbook_i18n_helpers::xgettext::create_catalogs;
use mdbook_markdown::pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use mdbook_preprocessor::book::{Book, BookItem};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use mdbook_renderer::RenderContext;
use polib::catalog::Catalog;
use polib::message::{Message, MessageMutView, MessageView};
use polib::metadata::CatalogMetadata;

/// One edition of the book.
pub struct Edition {
    /// The language code: mdBook writes it into `<html lang>`; `book/po/<lang>.po` translates.
    pub lang: &'static str,
    pub name: &'static str,
    /// The book's title in this edition (the menu bar, the browser tab).
    pub title: &'static str,
}

/// The editions, the source first.
pub const EDITIONS: &[Edition] = &[
    Edition { lang: "en", name: "English", title: "Kafka for Data Sync — a Rust workbook" },
    Edition { lang: "ko", name: "Korean (한국어)", title: "데이터 동기화를 위한 Kafka — Rust 워크북" },
];

/// The language the pages are written in.
pub const SOURCE_LANGUAGE: &str = "en";

/// `book/po/<lang>.po`
pub fn po_file(book_dir: &Path, lang: &str) -> PathBuf {
    book_dir.join("po").join(format!("{lang}.po"))
}

/// The messages of the English pages, in page order, as a catalog without translations.
pub fn extract(book_dir: &Path) -> Result<Catalog> {
    let mut config = Config::from_disk(book_dir.join("book.toml"))?;
    // Sources without line numbers: a paragraph added above another does not touch its entry.
    config.set("output.xgettext.granularity", 0)?;
    let book = MDBook::load_with_config(book_dir, config.clone())?;
    let (mut pages, _) = book.preprocess_book(&Xgettext)?;
    pages.for_each_mut(|item| {
        if let BookItem::Chapter(chapter) = item {
            chapter.content = without_code(&chapter.content);
        }
    });
    let context = RenderContext::new(book_dir, pages, config, book_dir.join("po"));
    let catalogs = create_catalogs(&context, std::fs::read_to_string)?;
    catalogs.into_values().next().ok_or_else(|| anyhow!("the book has no messages"))
}

/// The page with the inside of every fenced code block blanked out (its lines kept, so the
/// line numbers stay), so that listings and outputs yield no messages.
fn without_code(markdown: &str) -> String {
    let mut code_lines = HashSet::new();
    let mut inside: Option<usize> = None;
    for (event, range) in Parser::new(markdown).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) => inside = Some(range.end),
            Event::Text(_) if inside.is_some() => {
                let first = line_of(markdown, range.start);
                let last = line_of(markdown, range.end.saturating_sub(1));
                code_lines.extend(first..=last);
            }
            Event::End(_) if inside.is_some_and(|end| range.end >= end) => inside = None,
            _ => {}
        }
    }
    markdown
        .split('\n')
        .enumerate()
        .map(|(number, line)| if code_lines.contains(&number) { quote_prefix(line) } else { line })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The zero-based line the byte `offset` is on.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count()
}

/// What a code line inside a block quote must keep to stay inside it: its `>` markers.
fn quote_prefix(line: &str) -> &str {
    let end = line.find(|c: char| !(c == '>' || c == ' ' || c == '\t')).unwrap_or(line.len());
    if line[..end].contains('>') { &line[..end] } else { "" }
}

/// How far a translation is: what a reader of that edition would still see in English.
#[derive(Debug, Default)]
pub struct Coverage {
    pub messages: usize,
    pub translated: usize,
    /// Translated once, but the English has changed since (or a translator asked for review).
    pub fuzzy: Vec<String>,
    /// In the English pages, without a translation (or missing from the .po file).
    pub untranslated: Vec<String>,
    /// In the .po file but no longer in the English pages: `--update-po` removes them.
    pub stale: usize,
}

impl Coverage {
    pub fn is_complete(&self) -> bool {
        self.translated == self.messages && self.stale == 0
    }

    pub fn percent(&self) -> f64 {
        if self.messages == 0 { 100.0 } else { 100.0 * self.translated as f64 / self.messages as f64 }
    }

    pub fn summary(&self, lang: &str) -> String {
        format!(
            "{lang}: {} of {} messages translated ({:.1}%), {} fuzzy, {} untranslated, {} stale",
            self.translated,
            self.messages,
            self.percent(),
            self.fuzzy.len(),
            self.untranslated.len(),
            self.stale
        )
    }
}

/// Compares a translation with the messages of the English pages.
pub fn coverage(template: &Catalog, translation: &Catalog) -> Coverage {
    let mut coverage = Coverage::default();
    let mut current = HashSet::new();
    for message in template.messages() {
        coverage.messages += 1;
        current.insert(message.msgid().to_string());
        match translation.find_message(None, message.msgid(), None) {
            Some(found) if found.is_translated() && found.is_fuzzy() => {
                coverage.fuzzy.push(message.msgid().to_string())
            }
            Some(found) if found.is_translated() => coverage.translated += 1,
            _ => coverage.untranslated.push(message.msgid().to_string()),
        }
    }
    coverage.stale = translation.messages().filter(|m| !current.contains(m.msgid())).count();
    coverage
}

/// Reads `book/po/<lang>.po`.
pub fn read_po(path: &Path) -> Result<Catalog> {
    polib::po_file::parse(path).map_err(|e| anyhow!("{e}")).with_context(|| format!("reading {}", path.display()))
}

/// How similar an old message must be to a new one for its translation to be kept as fuzzy.
const FUZZY_SIMILARITY: f64 = 0.6;

/// Brings `book/po/<lang>.po` up to date with the English pages, as `msgmerge` would: a message
/// whose English is unchanged keeps its translation; a changed one gets the translation of the
/// most similar old message of the same page, flagged fuzzy; a new one starts untranslated.
pub fn update_po(book_dir: &Path, lang: &str) -> Result<Coverage> {
    let template = extract(book_dir)?;
    let path = po_file(book_dir, lang);
    let old = if path.exists() { read_po(&path)? } else { Catalog::new(metadata(lang)) };
    let current: HashSet<&str> = template.messages().map(|m| m.msgid()).collect();
    let retired: Vec<_> = old.messages().filter(|m| !current.contains(m.msgid())).collect();

    let mut merged = Catalog::new(metadata(lang));
    for message in template.messages() {
        let (msgstr, fuzzy) = match old.find_message(None, message.msgid(), None) {
            Some(kept) if kept.is_translated() => (kept.msgstr()?.to_string(), kept.is_fuzzy()),
            _ => match most_similar(message.msgid(), message.source(), &retired) {
                Some(similar) => (similar.msgstr()?.to_string(), true),
                None => (String::new(), false),
            },
        };
        let mut entry = Message::build_singular()
            .with_source(message.source().to_string())
            .with_msgid(message.msgid().to_string())
            .with_msgstr(msgstr)
            .done();
        if fuzzy {
            entry.flags_mut().add_flag("fuzzy");
        }
        merged.append_or_update(entry);
    }
    std::fs::create_dir_all(path.parent().expect("po/ has a parent"))?;
    polib::po_file::write(&merged, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(coverage(&template, &merged))
}

/// The retired translated message of the same page closest to `msgid`, if close enough.
fn most_similar<'a>(msgid: &str, source: &str, retired: &[&'a dyn MessageView]) -> Option<&'a dyn MessageView> {
    retired
        .iter()
        .filter(|old| old.is_translated() && old.source() == source)
        .map(|old| (strsim::normalized_levenshtein(msgid, old.msgid()), *old))
        .filter(|(similarity, _)| *similarity >= FUZZY_SIMILARITY)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, old)| old)
}

fn metadata(lang: &str) -> CatalogMetadata {
    let mut metadata = CatalogMetadata::new();
    metadata.project_id_version = "kafka-workbook".into();
    metadata.language = lang.into();
    metadata.mime_version = "1.0".into();
    metadata.content_type = "text/plain; charset=UTF-8".into();
    metadata.content_transfer_encoding = "8bit".into();
    metadata
}

/// Fails, listing what is missing, unless every message of `lang` is translated and reviewed.
pub fn check_complete(book_dir: &Path, lang: &str) -> Result<Coverage> {
    let template = extract(book_dir)?;
    let path = po_file(book_dir, lang);
    let translation = read_po(&path)?;
    let coverage = coverage(&template, &translation);
    if !coverage.is_complete() {
        for msgid in coverage.untranslated.iter().chain(&coverage.fuzzy).take(10) {
            eprintln!("  not translated: {}", first_line(msgid));
        }
        bail!("{}; run `cargo xtask book --update-po {lang}` and translate what it marks", coverage.summary(lang));
    }
    Ok(coverage)
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 90 { format!("{}…", line.chars().take(90).collect::<String>()) } else { line.into() }
}

/// Translates every page (and the chapter titles of the sidebar) with `book/po/<lang>.po`, like
/// mdbook-i18n-helpers' own `Gettext` preprocessor, except for how it writes the page back:
/// `*emphasis*`, not `_emphasis_`. Korean attaches particles to the word before them
/// (`*컨슈머 그룹*이`), and an underscore inside a word is not emphasis in Markdown.
pub struct Translate {
    pub lang: String,
}

impl Preprocessor for Translate {
    fn name(&self) -> &str {
        "translate"
    }

    fn run(&self, context: &PreprocessorContext, mut book: Book) -> Result<Book> {
        let mut catalog = read_po(&po_file(&context.root, &self.lang))?;
        mdbook_i18n_helpers::gettext::add_stripped_summary_translations(&mut catalog);
        let mut failures = Vec::new();
        book.for_each_mut(|item| {
            let result = match item {
                BookItem::Chapter(chapter) => translate(&chapter.content, &catalog)
                    .map(|content| chapter.content = content)
                    .and_then(|_| translate(&chapter.name, &catalog).map(|name| chapter.name = name)),
                BookItem::PartTitle(title) => translate(title, &catalog).map(|t| *title = t),
                BookItem::Separator => Ok(()),
            };
            failures.extend(result.err());
        });
        match failures.into_iter().next() {
            Some(error) => Err(error),
            None => Ok(book),
        }
    }
}

/// One page (or title) in the catalog's language; text without a translation stays as it is.
fn translate(markdown: &str, catalog: &Catalog) -> Result<String> {
    let events = mdbook_i18n_helpers::extract_events(markdown, None);
    let translated = mdbook_i18n_helpers::translate_events(&events, catalog)
        .map_err(|e| anyhow!("a translation is not valid Markdown: {e:?}"))?;
    let events = translated.iter().map(|(_, event)| event);
    let options = pulldown_cmark_to_cmark::Options {
        code_block_token_count: pulldown_cmark_to_cmark::calculate_code_block_token_count(events.clone()).unwrap_or(3),
        list_token: '-',
        emphasis_token: '*',
        strong_token: "**",
        ..Default::default()
    };
    let mut page = String::new();
    pulldown_cmark_to_cmark::cmark_with_options(events, &mut page, options)
        .map_err(|e| anyhow!("writing a translated page back as Markdown: {e}"))?;
    Ok(page.trim_start_matches('\n').to_string())
}

/// Pins every heading's anchor to the one the English page has, before the page is translated:
/// `## Offsets` becomes `## Offsets {#offsets}`, so that `ch05-consumers.html#offsets` (in a
/// link, in the search index, in a bookmark) reaches the same section in every edition.
pub struct EnglishAnchors;

impl Preprocessor for EnglishAnchors {
    fn name(&self) -> &str {
        "english-anchors"
    }

    fn run(&self, _: &PreprocessorContext, mut book: Book) -> Result<Book> {
        book.for_each_mut(|item| {
            if let BookItem::Chapter(chapter) = item {
                chapter.content = with_anchors(&chapter.content);
            }
        });
        Ok(book)
    }
}

/// The page with an explicit `{#id}` on every heading that has none: the id mdBook would make
/// from the heading's text (lower case, spaces to `-`, other punctuation dropped, `-1`, `-2` …
/// for a repeat).
fn with_anchors(markdown: &str) -> String {
    let mut insertions = Vec::new();
    let mut used = HashSet::new();
    let mut heading: Option<(usize, String)> = None;
    for (event, range) in Parser::new_ext(markdown, Options::all()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { id: None, .. }) => heading = Some((range.start, String::new())),
            Event::Text(text) | Event::Code(text) => {
                if let Some((_, words)) = heading.as_mut() {
                    words.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((start, words)) = heading.take() {
                    let line_end = markdown[start..].find('\n').map_or(markdown.len(), |n| start + n);
                    let end = start + markdown[start..line_end].trim_end().len();
                    insertions.push((end, format!(" {{#{}}}", unique(anchor(&words), &mut used))));
                }
            }
            _ => {}
        }
    }
    let mut page = markdown.to_string();
    for (at, attribute) in insertions.into_iter().rev() {
        page.insert_str(at, &attribute);
    }
    page
}

/// mdBook's anchor for a heading's text.
fn anchor(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect()
}

fn unique(id: String, used: &mut HashSet<String>) -> String {
    if used.insert(id.clone()) {
        return id;
    }
    (1..).map(|n| format!("{id}-{n}")).find(|candidate| used.insert(candidate.clone())).expect("unbounded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_blocks_yield_no_messages_and_keep_their_lines() {
        let page = "# Title\n\nSome prose.\n\n```rust\n// a comment\nlet s = \"text\";\n```\n\nMore prose.\n";
        let blanked = without_code(page);
        assert_eq!(blanked.lines().count(), page.lines().count());
        let messages: Vec<String> =
            mdbook_i18n_helpers::extract_messages(&blanked).unwrap().into_iter().map(|(_, m)| m.message).collect();
        assert_eq!(messages, ["Title", "Some prose.", "More prose."]);
    }

    #[test]
    fn a_code_block_in_a_quote_stays_in_the_quote() {
        let page = "> Quoted:\n>\n> ```text\n> output line\n> ```\n>\n> After.\n";
        let messages: Vec<String> = mdbook_i18n_helpers::extract_messages(&without_code(page))
            .unwrap()
            .into_iter()
            .map(|(_, m)| m.message)
            .collect();
        assert_eq!(messages, ["Quoted:", "After."]);
    }

    fn catalog(entries: &[(&str, &str, bool)]) -> Catalog {
        let mut catalog = Catalog::new(metadata("ko"));
        for (msgid, msgstr, fuzzy) in entries {
            let mut message =
                Message::build_singular().with_msgid(msgid.to_string()).with_msgstr(msgstr.to_string()).done();
            if *fuzzy {
                message.flags_mut().add_flag("fuzzy");
            }
            catalog.append_or_update(message);
        }
        catalog
    }

    #[test]
    fn coverage_counts_fuzzy_and_stale_as_not_done() {
        let template = catalog(&[("One", "", false), ("Two", "", false), ("Three", "", false)]);
        let translation = catalog(&[("One", "하나", false), ("Two", "둘", true), ("Gone", "사라짐", false)]);
        let coverage = coverage(&template, &translation);
        assert_eq!((coverage.messages, coverage.translated), (3, 1));
        assert_eq!(coverage.fuzzy, ["Two"]);
        assert_eq!(coverage.untranslated, ["Three"]);
        assert_eq!(coverage.stale, 1);
        assert!(!coverage.is_complete());
    }

    #[test]
    fn a_slightly_changed_message_keeps_its_old_translation_as_a_candidate() {
        let old = catalog(&[("The broker stores the log.", "브로커가 로그를 저장합니다.", false)]);
        let retired: Vec<&dyn MessageView> = old.messages().collect();
        let similar = most_similar("The broker stores the logs.", "", &retired);
        assert_eq!(similar.map(|m| m.msgstr().unwrap()), Some("브로커가 로그를 저장합니다."));
        assert!(most_similar("Something else entirely", "", &retired).is_none());
    }

    #[test]
    fn emphasis_survives_a_korean_particle() {
        let mut catalog = Catalog::new(metadata("ko"));
        catalog.append_or_update(
            Message::build_singular()
                .with_msgid("A _consumer group_ splits them.".into())
                .with_msgstr("*컨슈머 그룹*이 나눕니다.".into())
                .done(),
        );
        let page = translate("# T\n\nA _consumer group_ splits them.\n", &catalog).unwrap();
        assert!(page.ends_with("*컨슈머 그룹*이 나눕니다."), "{page}");
    }

    #[test]
    fn headings_keep_the_english_anchor() {
        let page = "# Consumers, groups and offsets\n\n## Run `it`\n\nText.\n\n## Run it\n\n## Kept {#mine}\n";
        assert_eq!(
            with_anchors(page),
            "# Consumers, groups and offsets {#consumers-groups-and-offsets}\n\n## Run `it` {#run-it}\n\n\
             Text.\n\n## Run it {#run-it-1}\n\n## Kept {#mine}\n"
        );
    }
}
