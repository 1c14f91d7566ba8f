//! The book's pictures: ```` ```pikchr ```` blocks in the pages, drawn as SVG when the book builds.
//!
//! A page keeps each diagram as text, in [pikchr](https://pikchr.org) (a PIC-like language), so a
//! diagram is reviewed and diffed like the prose around it:
//!
//! ````markdown
//! ```pikchr A producer appends to a partition
//! box "producer" fit
//! arrow
//! box "partition 0" fill lightblue fit
//! ```
//! ````
//!
//! Text after `pikchr` on the fence line is the caption: shown under the picture and read by
//! screen readers. [`Diagrams`] is an mdBook preprocessor (run in-process, after `{{#include}}`)
//! that replaces each block with `<figure class="diagram"><svg …>…</svg><figcaption>…</figcaption></figure>`.
//! The SVG keeps pikchr's own size (`width`/`height`) and the book's CSS scales it down to the
//! column (`max-width: 100%`).
//!
//! Colors follow the theme: black (pikchr's default) becomes `currentColor`, the page's text
//! color, and the few colors of [`PALETTE`] become CSS variables that each theme sets (see
//! `book/theme/workbook.css`), so a picture reads in the dark themes too. Any other color is an
//! error: it would be fixed in one theme and unreadable in another.
//!
//! A diagram that does not compile is an error with the page and line ([`problems`], run by the
//! lint before mdBook starts), never a broken picture.

use std::fmt::Write as _;
use std::ops::Range;

use anyhow::{Result, bail};
use mdbook_driver::book::Book;
use mdbook_markdown::pulldown_cmark::{CodeBlockKind, Event, Tag};
use mdbook_markdown::{MarkdownOptions, new_cmark_parser};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use pikchr::{Pikchr, PikchrFlags};

/// The colors a diagram may use, by their pikchr names, and what each becomes in the page.
/// The variables are set per theme in `book/theme/workbook.css`.
pub const PALETTE: &[(&str, &str, &str)] = &[
    ("black", "rgb(0,0,0)", "currentColor"),
    ("gray", "rgb(128,128,128)", "var(--diagram-gray)"),
    ("lightgray", "rgb(211,211,211)", "var(--diagram-lightgray)"),
    ("lightblue", "rgb(173,216,230)", "var(--diagram-lightblue)"),
    ("lightgreen", "rgb(144,238,144)", "var(--diagram-lightgreen)"),
    ("lightyellow", "rgb(255,255,224)", "var(--diagram-lightyellow)"),
    ("pink", "rgb(255,192,203)", "var(--diagram-pink)"),
    ("red", "rgb(255,0,0)", "var(--diagram-red)"),
];

/// The preprocessor `cargo xtask book` registers with mdBook.
pub struct Diagrams;

impl Preprocessor for Diagrams {
    fn name(&self) -> &str {
        "workbook-diagrams"
    }

    fn run(&self, _ctx: &PreprocessorContext, mut book: Book) -> Result<Book> {
        let mut errors = Vec::new();
        book.for_each_chapter_mut(|chapter| {
            let page = chapter.source_path.as_ref().map_or_else(|| chapter.name.clone(), |p| p.display().to_string());
            match replace(&chapter.content) {
                Ok(Some(content)) => chapter.content = content,
                Ok(None) => {}
                Err(problems) => {
                    errors.extend(problems.iter().map(|(line, message)| format!("{page}:{line}: {message}")))
                }
            }
        });
        if !errors.is_empty() {
            bail!("{} diagram(s) did not render:\n{}", errors.len(), errors.join("\n"));
        }
        Ok(book)
    }

    fn supports_renderer(&self, renderer: &str) -> Result<bool> {
        Ok(renderer == "html")
    }
}

/// One ```` ```pikchr ```` block of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The whole block, fences included (bytes of the page).
    pub range: Range<usize>,
    /// The line of the opening fence (1-based).
    pub line: usize,
    pub caption: String,
    pub source: String,
}

/// The diagram blocks of a page, found with the Markdown parser mdBook uses (so a ```` ```pikchr ````
/// shown inside a longer fence is not one).
pub fn blocks(text: &str) -> Vec<Block> {
    let mut found: Vec<Block> = Vec::new();
    let mut inside = false;
    for (event, range) in new_cmark_parser(text, &MarkdownOptions::default()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let info = info.trim();
                let end = info.find(|c: char| c.is_whitespace() || c == ',').unwrap_or(info.len());
                inside = &info[..end] == "pikchr";
                if inside {
                    let caption = info[end..].trim_start_matches(',').trim().to_string();
                    let line = line_of(text, range.start);
                    found.push(Block { range, line, caption, source: String::new() });
                }
            }
            Event::Text(t) if inside => found.last_mut().expect("a block was started").source.push_str(&t),
            Event::End(_) => inside = false,
            _ => {}
        }
    }
    found
}

/// What is wrong with a page's diagrams, as (line, message): the lint's view, on the page as
/// written (before includes, so the lines are the file's).
pub fn problems(text: &str) -> Vec<(usize, String)> {
    blocks(text)
        .iter()
        .filter_map(|block| render(&block.source).err().map(|e| (block.line + e.line, e.message)))
        .collect()
}

/// The page with every diagram block replaced by its figure; `None` if it has none.
pub fn replace(text: &str) -> Result<Option<String>, Vec<(usize, String)>> {
    let blocks = blocks(text);
    if blocks.is_empty() {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len());
    let mut problems = Vec::new();
    let mut from = 0;
    for block in &blocks {
        out.push_str(&text[from..block.range.start]);
        match render(&block.source) {
            Ok(svg) => {
                out.push_str(&figure(&svg, &block.caption));
                // An HTML block ends at a blank line: the text after the figure stays Markdown.
                out.push('\n');
                if !text[block.range.end..].starts_with('\n') {
                    out.push('\n');
                }
            }
            Err(e) => problems.push((block.line + e.line, e.message)),
        }
        from = block.range.end;
    }
    out.push_str(&text[from..]);
    if problems.is_empty() { Ok(Some(out)) } else { Err(problems) }
}

/// `<figure class="diagram">`, on one line (a blank line would end mdBook's HTML block).
fn figure(svg: &str, caption: &str) -> String {
    let mut html = String::from("<figure class=\"diagram\">");
    html.push_str(svg);
    if !caption.is_empty() {
        let _ = write!(html, "<figcaption>{}</figcaption>", escape(caption));
    }
    html.push_str("</figure>");
    html
}

/// Why a diagram did not render: the line within the diagram (1-based; 0 if pikchr did not say)
/// and pikchr's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    pub line: usize,
    pub message: String,
}

/// Set before every diagram (one line, so pikchr's line numbers are off by exactly one).
///
/// pikchr sizes `fit` boxes and the picture's frame from an estimate of each label's width: a
/// table of character widths scaled by `charwid` (0.08in by default, generous for any font).
/// Measured in Chromium against the book's Open Sans at the diagrams' 16 px, labels need 0.058in
/// to 0.067in (bold ones, which pikchr widens by 10%, a little less): 0.072in keeps a margin of
/// 8% or more, so a label at the picture's edge is never cut off, and boxes sit closer to their
/// labels. One line, so pikchr's line numbers are off by exactly one.
const PRELUDE: &str = "charwid = 0.072in\n";

/// pikchr reckons a `mono` character at 82% of `charwid` (8.5 px at 144 px per inch); the
/// book's Source Code Pro is 0.6 em wide, so mono labels are drawn at 86% of the text size
/// (13.8 px, 8.3 px per character) to fit what pikchr reserved for them.
const MONO_SIZE: f64 = 0.86;

/// Renders pikchr source to an inline SVG for the book: sized, themed, on one line.
pub fn render(source: &str) -> Result<String, RenderError> {
    let with_prelude = format!("{PRELUDE}{source}");
    // No class: pikchr 0.1.4 hands the C code a pointer to a class string it has already freed.
    let pic = Pikchr::render(&with_prelude, None, PikchrFlags::default()).map_err(|text| {
        let mut error = pikchr_error(&text);
        error.line = error.line.saturating_sub(PRELUDE.lines().count());
        error
    })?;
    let (width, height) = (pic.width(), pic.height());
    let mut svg = shrink_monospace(&pic.rendered().replace('\n', ""));
    // Without a size the SVG would stretch to the column's width; pikchr only writes one when
    // `scale` is set.
    let open_end = svg.find('>').unwrap_or(0);
    if !svg[..open_end].contains(" width=") {
        svg.insert_str(open_end, &format!(" width=\"{width}\" height=\"{height}\" role=\"img\""));
    } else {
        svg.insert_str(open_end, " role=\"img\"");
    }
    // Text is colored with a `fill` attribute, where CSS variables do not work; a style does.
    svg = svg.replace(" fill=\"", " style=\"fill:");
    for (_, rgb, css) in PALETTE {
        svg = svg.replace(rgb, css);
    }
    if let Some(at) = svg.find("rgb(") {
        let color = &svg[at..svg[at..].find(')').map_or(svg.len(), |end| at + end + 1)];
        let names: Vec<&str> = PALETTE.iter().map(|(name, _, _)| *name).collect();
        return Err(RenderError {
            line: 0,
            message: format!(
                "the diagram uses the color {color}, which the dark themes do not adapt; use one of: {}",
                names.join(", ")
            ),
        });
    }
    Ok(svg)
}

/// Sets the size of every `font-family="monospace"` label to [`MONO_SIZE`] of what pikchr chose
/// (100%, or `small`'s 80%, …).
fn shrink_monospace(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len() + 64);
    let mut rest = svg;
    while let Some(at) = rest.find("<text ") {
        let end = rest[at..].find('>').map_or(rest.len(), |e| at + e);
        out.push_str(&rest[..at]);
        let tag = &rest[at..end];
        if tag.contains("font-family=\"monospace\"") {
            let size = |tag: &str| -> Option<(usize, usize, f64)> {
                let start = tag.find(" font-size=\"")? + " font-size=\"".len();
                let len = tag[start..].find("%\"")?;
                Some((start, start + len, tag[start..start + len].parse().ok()?))
            };
            match size(tag) {
                Some((from, to, percent)) => {
                    out.push_str(&tag[..from]);
                    let _ = write!(out, "{}", (percent * MONO_SIZE).round());
                    out.push_str(&tag[to..]);
                }
                None => {
                    out.push_str(tag);
                    let _ = write!(out, " font-size=\"{}%\"", (100.0 * MONO_SIZE).round());
                }
            }
        } else {
            out.push_str(tag);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Reads pikchr's plain-text error: the source lines up to the error, numbered `/*  N */`, a
/// caret line, then `ERROR: message`.
fn pikchr_error(text: &str) -> RenderError {
    let mut line = 0;
    let mut message = None;
    for row in text.lines() {
        if let Some(rest) = row.trim_start().strip_prefix("/*")
            && let Some((number, _)) = rest.split_once("*/")
            && let Ok(number) = number.trim().parse()
        {
            line = number;
        } else if let Some(rest) = row.trim_start().strip_prefix("ERROR:") {
            message = Some(rest.trim().to_string());
        }
    }
    let message = message.unwrap_or_else(|| text.trim().to_string());
    RenderError { line, message: format!("pikchr: {message}") }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use mdbook_driver::book::{BookItem, Chapter};
    use mdbook_driver::config::Config;

    use super::*;

    const PAGE: &str = "# Page\n\nText.\n\n```pikchr A producer, a partition\nbox \"producer\" fit\narrow\nbox \"p0\" fill lightblue\n```\nAfter.\n\n```rust\nfn main() {}\n```\n\n````markdown\n```pikchr\nnot a diagram, shown as text\n```\n````\n";

    #[test]
    fn finds_diagram_blocks_with_their_line_and_caption() {
        let found = blocks(PAGE);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].line, 5);
        assert_eq!(found[0].caption, "A producer, a partition");
        assert_eq!(found[0].source, "box \"producer\" fit\narrow\nbox \"p0\" fill lightblue\n");
        assert_eq!(
            &PAGE[found[0].range.clone()],
            &PAGE[PAGE.find("```pikchr").unwrap()..PAGE.find("\nAfter.").unwrap()]
        );
        assert_eq!(blocks("```pikchr,\nbox\n```\n")[0].caption, "");
        assert!(blocks("```pikchrs\nbox\n```\n").is_empty());
    }

    #[test]
    fn renders_a_sized_themed_svg_on_one_line() {
        let svg = render("box \"a<b\" fill lightblue\narrow\ntext \"note\" color gray\n").unwrap();
        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(!svg.contains('\n'));
        let open = &svg[..svg.find('>').unwrap()];
        assert!(open.contains(" width=\"") && open.contains(" height=\"") && open.contains("role=\"img\""), "{open}");
        assert!(svg.contains("fill:var(--diagram-lightblue)") && svg.contains("stroke:currentColor"), "{svg}");
        assert!(svg.contains("style=\"fill:var(--diagram-gray)\""), "text colors become styles: {svg}");
        assert!(!svg.contains("rgb(") && !svg.contains(" fill=\""), "{svg}");
        assert!(svg.contains("a&lt;b"), "pikchr escapes text: {svg}");
        // No element ends up with two style attributes.
        for element in svg.split('<') {
            assert!(element.matches(" style=").count() <= 1, "{element}");
        }
    }

    #[test]
    fn monospace_labels_are_drawn_smaller() {
        let svg = render("box \"send(key)\" mono \"plain\" \"small\" mono small fit\n").unwrap();
        let texts: Vec<&str> = svg.split("<text ").skip(1).map(|t| &t[..t.find('>').unwrap()]).collect();
        assert_eq!(texts.len(), 3, "{svg}");
        assert!(
            texts[0].contains("font-family=\"monospace\"") && texts[0].contains("font-size=\"86%\""),
            "{}",
            texts[0]
        );
        assert!(!texts[1].contains("font-size"), "{}", texts[1]);
        assert!(texts[2].contains("font-size=\"69%\"") && !texts[2].contains("80%"), "{}", texts[2]);
        assert!(svg.contains(">send(key)</text>") && svg.contains(">small</text>"), "{svg}");
    }

    #[test]
    fn the_prelude_narrows_labels_without_moving_error_lines() {
        let narrow = render("box \"a label of some length\" fit\n").unwrap();
        let default = Pikchr::render("box \"a label of some length\" fit\n", None, PikchrFlags::default()).unwrap();
        let width = |svg: &str| -> f64 {
            let at = svg.find("viewBox=\"0 0 ").unwrap() + "viewBox=\"0 0 ".len();
            svg[at..].split(' ').next().unwrap().parse().unwrap()
        };
        assert!(width(&narrow) < width(&default) * 0.95, "{} vs {}", width(&narrow), width(default.rendered()));
        assert_eq!(render("box\nbogus\n").unwrap_err().line, 2);
    }

    #[test]
    fn a_scaled_diagram_keeps_pikchrs_size() {
        let svg = render("scale = 0.5\nbox\n").unwrap();
        let open = &svg[..svg.find('>').unwrap()];
        assert_eq!(open.matches(" width=").count(), 1, "{open}");
    }

    #[test]
    fn colors_outside_the_palette_are_refused() {
        let e = render("box fill 0x123456\n").unwrap_err();
        assert!(e.message.contains("rgb(18,52,86)") && e.message.contains("lightblue"), "{e:?}");
    }

    #[test]
    fn errors_name_the_page_line() {
        let page = "# P\n\n```pikchr\nbox\narrow\nbogus here\n```\n";
        let e = render("box\narrow\nbogus here\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.starts_with("pikchr: ") && e.message.contains("syntax error"), "{e:?}");
        assert_eq!(problems(page), [(6, e.message.clone())]);
        assert_eq!(replace(page), Err(vec![(6, e.message)]));
        assert!(problems(PAGE).is_empty());
    }

    #[test]
    fn replaces_blocks_with_figures_and_keeps_the_rest() {
        let out = replace(PAGE).unwrap().unwrap();
        assert!(out.starts_with("# Page\n\nText.\n\n<figure class=\"diagram\"><svg "), "{out}");
        assert!(out.contains("</svg><figcaption>A producer, a partition</figcaption></figure>\n\nAfter.\n"), "{out}");
        assert!(out.contains("```rust\nfn main() {}\n```") && out.contains("```pikchr\nnot a diagram"), "{out}");
        assert_eq!(replace("# No diagrams\n"), Ok(None));
        let bare = replace("```pikchr\nbox\n```").unwrap().unwrap();
        assert!(bare.ends_with("</svg></figure>\n\n"), "{bare}");
        assert!(
            replace("```pikchr x & <y>\nbox\n```\n")
                .unwrap()
                .unwrap()
                .contains("<figcaption>x &amp; &lt;y&gt;</figcaption>")
        );
    }

    #[test]
    fn the_preprocessor_fails_with_the_page_and_line() {
        let context = PreprocessorContext::new("book".into(), Config::default(), "html".into());
        let chapter =
            |name: &str, text: &str| BookItem::Chapter(Chapter::new(name, text.into(), format!("{name}.md"), vec![]));
        let book = Book::new_with_items(vec![chapter("good", PAGE), chapter("plain", "# Plain\n")]);
        let built = Diagrams.run(&context, book).unwrap();
        let contents: Vec<&str> = built
            .iter()
            .filter_map(|item| if let BookItem::Chapter(c) = item { Some(c.content.as_str()) } else { None })
            .collect();
        assert!(contents[0].contains("<figure class=\"diagram\">") && contents[1] == "# Plain\n");

        let book = Book::new_with_items(vec![chapter("bad", "# Bad\n\n```pikchr\nbox\nnope nope\n```\n")]);
        let error = Diagrams.run(&context, book).unwrap_err().to_string();
        assert!(error.contains("bad.md:5: pikchr: syntax error"), "{error}");
        assert!(Diagrams.supports_renderer("html").unwrap() && !Diagrams.supports_renderer("markdown").unwrap());
    }
}
