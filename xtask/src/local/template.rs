//! The runtime templates in xtask/runtime/: `{{name}}` placeholders filled in by xtask.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Replaces every `{{key}}` with its value; a placeholder left unfilled is an error
/// (a config with a literal `{{port}}` in it would fail far less clearly inside Kafka).
pub fn render(template: &str, values: &[(&str, String)]) -> Result<String> {
    let mut text = template.to_string();
    for (key, value) in values {
        text = text.replace(&format!("{{{{{key}}}}}"), value);
    }
    let unfilled: Vec<&str> =
        text.lines().filter(|line| !line.trim_start().starts_with('#') && line.contains("{{")).collect();
    if !unfilled.is_empty() {
        bail!("template has unfilled placeholders: {}", unfilled.join(" | "));
    }
    Ok(text)
}

/// Renders the template file `name` from xtask/runtime into `target`.
pub fn render_file(name: &str, values: &[(&str, String)], target: &Path) -> Result<()> {
    let source = crate::layout::runtime_templates().join(name);
    let template = std::fs::read_to_string(&source).with_context(|| format!("reading {}", source.display()))?;
    let text = render(&template, values).with_context(|| format!("rendering {}", source.display()))?;
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(target, text).with_context(|| format!("writing {}", target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_placeholders() {
        let text = render("port={{port}}\nid={{id}}\n", &[("port", "9092".into()), ("id", "1".into())]).unwrap();
        assert_eq!(text, "port=9092\nid=1\n");
    }

    #[test]
    fn an_unfilled_placeholder_is_an_error_but_comments_may_mention_them() {
        assert!(render("# uses {{port}}\nport=1\n", &[]).is_ok());
        let err = render("port={{port}}\n", &[]).unwrap_err();
        assert!(err.to_string().contains("port={{port}}"), "{err}");
    }
}
