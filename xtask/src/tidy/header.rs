//! Rule: every `.rs` file opens with a `//!` summary on its first line.

use super::Violation;
use super::walk::SourceFile;

/// Reports `file` unless its first line starts with `//!`.
pub(crate) fn check(file: &SourceFile, out: &mut Vec<Violation>) {
    if !file.text.starts_with("//!") {
        out.push(Violation::new(
            file,
            1,
            "the file does not open with a `//!` summary",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violations(text: &str) -> usize {
        let mut out = Vec::new();
        check(&SourceFile::new("src/a.rs", text.to_string()), &mut out);
        out.len()
    }

    #[test]
    fn first_line_must_be_inner_doc() {
        assert_eq!(violations("//! Summary.\nfn f() {}\n"), 0);
        assert_eq!(violations("// Summary.\nfn f() {}\n"), 1);
        assert_eq!(violations("\n//! Summary.\n"), 1);
        assert_eq!(violations(""), 1);
    }
}
