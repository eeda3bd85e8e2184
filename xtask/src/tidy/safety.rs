//! Rule: a `// SAFETY:` comment on the line(s) just above every `unsafe` block and
//! every `unsafe impl`.
//!
//! "Just above" means the run of comment-only lines directly over the line holding
//! `unsafe {`; one of them must contain `SAFETY:`. Attribute lines (`#[allow(..)]`)
//! and the earlier lines of the same statement as rustfmt breaks it (code lines ending
//! in `=`, `=>` or `(`, as in `let port =⏎ unsafe { .. }`) may sit in between; a blank
//! line or any other line of code ends the run. The comment therefore goes right over
//! the statement or expression that opens the block, as clippy's
//! `undocumented_unsafe_blocks` also accepts. `unsafe fn`, `unsafe trait` and `unsafe extern` are not blocks; clippy's
//! `missing_safety_doc` covers their `# Safety` docs. Code in doc comments is not
//! checked.

use super::Violation;
use super::lexer::is_ident_char;
use super::walk::SourceFile;

/// Reports every `unsafe` block or impl in `file` lacking its `SAFETY:` comment.
pub(crate) fn check(file: &SourceFile, out: &mut Vec<Violation>) {
    let code = file.masked.code_lines();
    let comments = file.masked.comment_lines();
    for (index, line) in code.iter().enumerate() {
        let Some(kind) = unsafe_use(line) else {
            continue;
        };
        if !has_safety_comment(&code, &comments, index) {
            let message = format!("`unsafe {kind}` without a `// SAFETY:` comment just above");
            out.push(Violation::new(file, index + 1, message));
        }
    }
}

/// `Some("{")` or `Some("impl")` when `line` opens an unsafe block or impl.
fn unsafe_use(line: &str) -> Option<&'static str> {
    let mut rest = line;
    while let Some(found) = rest.find("unsafe") {
        let (before, after) = (&rest[..found], &rest[found + "unsafe".len()..]);
        let whole_word = !before.ends_with(is_ident_char) && !after.starts_with(is_ident_char);
        let next = after.trim_start();
        if whole_word && next.starts_with('{') {
            return Some("{");
        }
        if whole_word && next.starts_with("impl") && !next[4..].starts_with(is_ident_char) {
            return Some("impl");
        }
        rest = after;
    }
    None
}

/// Whether the comment lines right above `index` (skipping attributes) hold `SAFETY:`.
fn has_safety_comment(code: &[&str], comments: &[&str], index: usize) -> bool {
    for above in (0..index).rev() {
        let (code, comment) = (
            code[above].trim(),
            comments.get(above).map_or("", |c| c.trim()),
        );
        if code.is_empty() && !comment.is_empty() {
            if comment.contains("SAFETY:") {
                return true;
            }
        } else if !is_attribute(code) && !continues_below(code) {
            return false;
        }
    }
    false
}

/// A one-line attribute such as `#[allow(unused_unsafe)]`.
fn is_attribute(code: &str) -> bool {
    code.starts_with("#[") && code.ends_with(']')
}

/// A line rustfmt broke a statement after, so the next line continues it.
fn continues_below(code: &str) -> bool {
    code.ends_with('=') || code.ends_with("=>") || code.ends_with('(')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_flagged(text: &str) -> Vec<usize> {
        let mut out = Vec::new();
        check(
            &SourceFile::new("crates/a/src/a.rs", text.to_string()),
            &mut out,
        );
        out.iter().map(|v| v.line).collect()
    }

    #[test]
    fn comment_directly_above_counts() {
        let text = "fn f() {\n    // SAFETY: p is valid.\n    let x = unsafe { *p };\n}\n";
        assert_eq!(lines_flagged(text), Vec::<usize>::new());
        let text =
            "// SAFETY: no shared state.\n// More words.\n#[allow(x)]\nunsafe impl Send for A {}\n";
        assert_eq!(lines_flagged(text), Vec::<usize>::new());
    }

    #[test]
    fn comment_above_a_broken_statement_counts() {
        let text = "// SAFETY: fine.\nlet port =\n    unsafe { f() };\nmatch x {\n    // SAFETY: p is valid.\n    Some(p) =>\n        unsafe { *p },\n}\n";
        assert_eq!(lines_flagged(text), Vec::<usize>::new());
        let text =
            "// SAFETY: only for a.\nlet a = unsafe { f() };\nlet b =\n    unsafe { g() };\n";
        assert_eq!(lines_flagged(text), [4]);
    }

    #[test]
    fn missing_or_detached_comment_is_flagged() {
        assert_eq!(
            lines_flagged("fn f() {\n    let x = unsafe { *p };\n}\n"),
            [2]
        );
        assert_eq!(
            lines_flagged("// SAFETY: far away.\n\nunsafe impl Sync for A {}\n"),
            [3]
        );
        assert_eq!(
            lines_flagged("// SAFETY: one.\nlet a = 1;\nunsafe {\n}\n"),
            [3]
        );
        assert_eq!(
            lines_flagged("// Safety: wrong case\nunsafe { f() }\n"),
            [2]
        );
    }

    #[test]
    fn unsafe_that_is_not_a_block_is_ignored() {
        let text = "unsafe fn f() {}\nunsafe trait T {}\nunsafe extern \"C\" {}\nlet s = \"unsafe {\";\n// unsafe { x }\nfn not_unsafe_impl() {}\n";
        assert_eq!(lines_flagged(text), Vec::<usize>::new());
    }
}
