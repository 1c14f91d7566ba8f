//! Is an exercise still the untouched stub? Read as Rust, not guessed from a panic message.
//!
//! A stub's body is exactly one `todo!(…)` (the audit holds every chapter to that), so an
//! exercise whose function body is still a lone `todo!()` has not been started, whatever its
//! test says; one that calls `todo!()` somewhere else has been started and is failing.
//! `cargo xtask reset` puts the stub back: the newest version of the file in git's history in
//! which that function is still a stub.

use std::ops::Range;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The function `name` in `source`: its byte range (doc comments and attributes included) and
/// whether its body is a lone `todo!()`. `None` if the file has no such function or does not parse.
pub fn find(source: &str, name: &str) -> Option<(Range<usize>, bool)> {
    let file = syn::parse_file(source).ok()?;
    let function = file.items.iter().find_map(|item| match item {
        syn::Item::Fn(f) if f.sig.ident == name => Some(f),
        _ => None,
    })?;
    let start =
        function.attrs.iter().map(|a| a.pound_token.span.start()).min().unwrap_or(function.sig.fn_token.span.start());
    // Start at the visibility (`pub`) when there are no attributes before it.
    let start = match (&function.vis, function.attrs.is_empty()) {
        (syn::Visibility::Public(p), true) => p.span.start(),
        _ => start,
    };
    let end = function.block.brace_token.span.close().end();
    let range = offset(source, start)?..offset(source, end)?;
    Some((range, is_lone_todo(&function.block)))
}

/// Is this exercise's function in `source` still the untouched stub?
pub fn is_untouched(source: &str, name: &str) -> bool {
    find(source, name).is_some_and(|(_, stub)| stub)
}

fn is_lone_todo(block: &syn::Block) -> bool {
    let [statement] = block.stmts.as_slice() else { return false };
    let mac = match statement {
        syn::Stmt::Macro(m) => &m.mac,
        syn::Stmt::Expr(syn::Expr::Macro(m), _) => &m.mac,
        _ => return false,
    };
    mac.path.is_ident("todo")
}

/// A line/column position (1-based line, 0-based column in chars) as a byte offset.
fn offset(source: &str, at: proc_macro2::LineColumn) -> Option<usize> {
    let line_start: usize = source.split_inclusive('\n').take(at.line - 1).map(str::len).sum();
    let line = source[line_start..].split('\n').next()?;
    let column: usize = line.chars().take(at.column).map(char::len_utf8).sum();
    Some(line_start + column)
}

/// `source` with the function `name` replaced by the same function from `pristine`.
pub fn restore(source: &str, pristine: &str, name: &str) -> Result<String> {
    let (current, _) =
        find(source, name).with_context(|| format!("the file has no function `{name}` (or does not parse)"))?;
    let (original, stub) = find(pristine, name).with_context(|| format!("the original has no function `{name}`"))?;
    if !stub {
        bail!("the original `{name}` is not a stub");
    }
    Ok(format!("{}{}{}", &source[..current.start], &pristine[original], &source[current.end..]))
}

/// The newest committed version of `file` (relative to `root`) in which `name` is still a stub.
pub fn pristine_from_git(root: &Path, file: &str, name: &str) -> Result<String> {
    let git = |args: &[&str]| -> Result<String> {
        let output = Command::new("git").current_dir(root).args(args).output().context("running git")?;
        if !output.status.success() {
            bail!("git {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let commits = git(&["log", "--format=%H", "--", file]).context("the stub is restored from git's history")?;
    for commit in commits.lines().take(200) {
        if let Ok(text) = git(&["show", &format!("{commit}:{file}")])
            && is_untouched(&text, name)
        {
            return Ok(text);
        }
    }
    bail!("no commit in git's history has `{name}` in {file} as an untouched stub")
}

#[cfg(test)]
mod tests {
    use super::*;

    const STUB: &str = "//! Exercises.\n\nuse x::Y;\n\n/// Adds.\n/// Twice.\npub fn add(a: u32, b: u32) -> u32 {\n    todo!(\"add them\")\n}\n\n#[allow(dead_code)]\npub async fn tell(a: &str) -> String {\n    todo!()\n}\n";

    #[test]
    fn a_lone_todo_is_a_stub() {
        assert!(is_untouched(STUB, "add"));
        assert!(is_untouched(STUB, "tell"));
        assert!(!is_untouched(STUB, "missing"));
        assert!(!is_untouched("pub fn add() -> u32 { helper(); todo!() }", "add"), "started: todo after code");
        assert!(!is_untouched("pub fn add() -> u32 { 1 + 1 }", "add"));
        assert!(!is_untouched("pub fn add( {", "add"), "a file that does not parse is not untouched");
    }

    #[test]
    fn the_range_covers_docs_attributes_and_body() {
        let (range, _) = find(STUB, "add").unwrap();
        assert_eq!(
            &STUB[range],
            "/// Adds.\n/// Twice.\npub fn add(a: u32, b: u32) -> u32 {\n    todo!(\"add them\")\n}"
        );
        let (range, _) = find(STUB, "tell").unwrap();
        assert!(STUB[range].starts_with("#[allow(dead_code)]\npub async fn tell"));
    }

    /// The newest commit in which the function is still a stub, from a real repository.
    #[test]
    fn the_pristine_stub_comes_from_git_history() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let status = Command::new("git")
                .current_dir(dir.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        };
        git(&["init", "-q"]);
        std::fs::write(dir.path().join("exercises.rs"), STUB).unwrap();
        git(&["add", "exercises.rs"]);
        git(&["commit", "-q", "-m", "stubs"]);
        // The learner solves `add` and commits it: the stub is now only in an older commit.
        std::fs::write(dir.path().join("exercises.rs"), STUB.replace("todo!(\"add them\")", "a + b")).unwrap();
        git(&["commit", "-q", "-am", "solved add"]);
        let pristine = pristine_from_git(dir.path(), "exercises.rs", "add").unwrap();
        assert!(is_untouched(&pristine, "add"));
        assert!(pristine_from_git(dir.path(), "exercises.rs", "missing").is_err());
    }

    #[test]
    fn restore_puts_back_one_function_only() {
        let edited = STUB.replace("todo!(\"add them\")", "a + b + 1 // é").replace("todo!()", "a.to_string()");
        let restored = restore(&edited, STUB, "add").unwrap();
        assert!(is_untouched(&restored, "add"));
        assert!(!is_untouched(&restored, "tell"), "the other exercise keeps the learner's work");
        assert!(restored.contains("a.to_string()"));
        assert!(restore(&edited, &edited, "add").is_err(), "the original must be a stub");
    }
}
