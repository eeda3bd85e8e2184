//! Rule: no `dbg!`, `todo!` or `unimplemented!` outside tests.
//!
//! Test code is: files under a `tests/` or `benches/` directory, files named
//! `tests.rs`, and any item marked `#[test]`, `#[cfg(test)]` or `#[<path>::test]`
//! (from the attribute to the item's closing brace). Clippy denies the same macros in
//! code it compiles; this rule also covers code behind a `cfg` that is off here.

use super::Violation;
use super::lexer::is_ident_char;
use super::walk::SourceFile;

/// The macros that mark unfinished or debugging code.
const BANNED: [&str; 3] = ["dbg", "todo", "unimplemented"];

/// Reports each banned macro call in `file` outside test code.
pub(crate) fn check(file: &SourceFile, out: &mut Vec<Violation>) {
    if is_test_file(file) {
        return;
    }
    let code = file.masked.code_lines();
    let in_test = test_lines(&code);
    for (index, line) in code
        .iter()
        .enumerate()
        .filter(|&(index, _)| !in_test[index])
    {
        for name in BANNED.iter().filter(|name| calls_macro(line, name)) {
            out.push(Violation::new(
                file,
                index + 1,
                format!("`{name}!` outside tests"),
            ));
        }
    }
}

/// Files that are test code as a whole.
fn is_test_file(file: &SourceFile) -> bool {
    file.dirs()
        .iter()
        .any(|dir| matches!(*dir, "tests" | "benches"))
        || file.name() == "tests.rs"
}

/// Whether `line` invokes the macro `name` (`name!` or `name !`, not `name !=`).
fn calls_macro(line: &str, name: &str) -> bool {
    line.match_indices(name).any(|(at, _)| {
        let after = line[at + name.len()..].trim_start();
        let starts_word = !line[..at].ends_with(is_ident_char);
        starts_word && after.starts_with('!') && !after.starts_with("!=")
    })
}

/// Marks the lines that belong to test items: from a test attribute to the closing
/// brace of the item it annotates (an item ending in `;` first ends the mark).
fn test_lines(code: &[&str]) -> Vec<bool> {
    let mut marks = vec![false; code.len()];
    let (mut depth, mut pending, mut region) = (0_i64, None, None);
    for (index, line) in code.iter().enumerate() {
        if region.is_none() && is_test_attribute(line) {
            pending = Some(depth);
        }
        marks[index] = pending.is_some() || region.is_some();
        for c in line.chars() {
            match c {
                '{' if region.is_none() && pending == Some(depth) => {
                    (region, pending) = (Some(depth), None);
                    depth += 1;
                }
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    region = region.filter(|&start| start != depth);
                }
                ';' if region.is_none() && pending == Some(depth) => pending = None,
                _ => {}
            }
        }
    }
    marks
}

/// `#[test]`, `#[cfg(test)]`, `#[tokio::test]`, `#[foo::test(...)]`.
fn is_test_attribute(line: &str) -> bool {
    let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    ["#[test]", "#[cfg(test)]", "::test]", "::test("]
        .iter()
        .any(|mark| compact.contains(mark))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_flagged(path: &str, text: &str) -> Vec<usize> {
        let mut out = Vec::new();
        check(&SourceFile::new(path, text.to_string()), &mut out);
        out.iter().map(|v| v.line).collect()
    }

    #[test]
    fn banned_macros_in_library_code_are_flagged() {
        let text = "fn f() {\n    dbg!(1);\n    todo!()\n}\nfn g() { std::unimplemented!() }\n";
        assert_eq!(lines_flagged("crates/a/src/lib.rs", text), [2, 3, 5]);
    }

    #[test]
    fn test_items_and_test_files_are_exempt() {
        let text = "fn f() {}\n#[cfg(test)]\nmod tests {\n    fn t() { dbg!(1); }\n}\nfn g() { todo!() }\n";
        assert_eq!(lines_flagged("crates/a/src/lib.rs", text), [6]);
        let text = "#[test]\nfn t() {\n    dbg!(2);\n}\n";
        assert_eq!(
            lines_flagged("crates/a/src/lib.rs", text),
            Vec::<usize>::new()
        );
        assert_eq!(
            lines_flagged("crates/a/tests/it/main.rs", "fn f() { dbg!(1); }"),
            []
        );
    }

    #[test]
    fn test_attribute_on_a_declaration_ends_at_the_semicolon() {
        let text = "#[cfg(test)]\nmod tests;\nfn f() { todo!() }\n";
        assert_eq!(lines_flagged("crates/a/src/lib.rs", text), [3]);
    }

    #[test]
    fn lookalikes_are_not_calls() {
        let text =
            "let todo = 1;\nif todo != 2 {}\nfn my_dbg() {}\nlet s = \"dbg!(x)\"; // todo!()\n";
        assert_eq!(
            lines_flagged("crates/a/src/lib.rs", text),
            Vec::<usize>::new()
        );
    }
}
