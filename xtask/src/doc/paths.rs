//! Rule: no example on the facade's pages names a layer crate.
//!
//! A user of `sock` depends on `sock` alone, so an example on its pages must use the
//! paths `sock` gives the layers — `sock::Thread`, `sock::sched::Executor`,
//! `sock::addr::lookup` — never `sock_sched::…` or `sock_addr::…`, which do not compile
//! in that user's crate. The pages re-exported from a layer are the layer's own docs
//! (`#[doc(inline)]`), so the rule guards both crates: the layers write their item
//! examples with facade paths (they dev-depend on `sock` for their doctests).
//!
//! The check reads what rustdoc wrote under `<target>/doc/sock/`: the text of every
//! rendered example (`<pre class="rust rust-example-rendered">`), tags stripped. Prose
//! and link targets are not examples and are not read.

use std::io;
use std::path::Path;

use crate::tidy::layering::LAYERS;

/// The opening of a rendered example block in rustdoc's HTML.
const EXAMPLE_OPEN: &str = "<pre class=\"rust rust-example-rendered\">";

/// One line per example under `doc_dir/sock` that names a layer crate, with the
/// number of pages read.
///
/// # Errors
///
/// `doc_dir/sock` or a page in it cannot be read.
pub(crate) fn check(doc_dir: &Path) -> io::Result<(Vec<String>, usize)> {
    let mut pages = Vec::new();
    html_files(&doc_dir.join("sock"), &mut pages)?;
    let mut problems = Vec::new();
    for page in &pages {
        let html = std::fs::read_to_string(page)?;
        let shown = page.strip_prefix(doc_dir).unwrap_or(page).display();
        for layer in layers_named(&html) {
            problems.push(format!(
                "{shown}: an example names `{layer}::`; write the path sock gives it"
            ));
        }
    }
    Ok((problems, pages.len()))
}

/// The layer crates (as spelled in code, `sock_sched`) named in some example of
/// `html`, each once.
fn layers_named(html: &str) -> Vec<String> {
    let examples: Vec<String> = examples(html).collect();
    let layers = LAYERS.iter().map(|(name, _)| name.replace('-', "_"));
    let layers = layers.filter(|layer| layer != "sock");
    layers
        .filter(|layer| examples.iter().any(|text| names(text, layer)))
        .collect()
}

/// Whether `text` uses `layer::` as a path (not as the tail of a longer name).
fn names(text: &str, layer: &str) -> bool {
    let path = format!("{layer}::");
    text.match_indices(&path).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// The text of each rendered example in `html`: tags removed, entities decoded.
fn examples(html: &str) -> impl Iterator<Item = String> + '_ {
    html.split(EXAMPLE_OPEN).skip(1).map(|rest| {
        let block = rest.split("</pre>").next().unwrap_or(rest);
        decode(&strip_tags(block))
    })
}

/// `html` without its tags.
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// The few entities rustdoc writes in code, decoded (`&amp;` last).
fn decode(text: &str) -> String {
    let entities = [
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
    ];
    let decoded = entities
        .iter()
        .fold(text.to_string(), |t, (from, to)| t.replace(from, to));
    decoded.replace("&amp;", "&")
}

/// Every `.html` file under `dir`, recursively.
fn html_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            html_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "html") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An example as rustdoc renders it: keywords and punctuation in spans.
    const PAGE: &str = r#"<p>See <code>sock_sched::Executor</code>.</p>
<div class="example-wrap"><pre class="rust rust-example-rendered"><code><span class="kw">use </span>sock::sched::Executor;
<span class="kw">let </span>ex = Executor::new();</code></pre></div>
<div class="example-wrap"><pre class="rust rust-example-rendered"><code><span class="kw">let </span>t = sock_sched::spawn(<span class="kw">async </span>{});
<span class="kw">let </span>my_sock_addr::x = <span class="number">1</span>;</code></pre></div>"#;

    #[test]
    fn a_layer_path_in_an_example_is_caught_and_prose_is_not_read() {
        assert_eq!(layers_named(PAGE), ["sock_sched"]);
        let clean = PAGE.replace("sock_sched::spawn", "sock::spawn");
        assert!(
            layers_named(&clean).is_empty(),
            "prose and `my_sock_addr` are fine"
        );
    }

    #[test]
    fn tags_and_entities_are_removed() {
        let html = r#"<span class="kw">if </span>a &lt; b &amp;&amp; c"#;
        assert_eq!(decode(&strip_tags(html)), "if a < b && c");
    }
}
