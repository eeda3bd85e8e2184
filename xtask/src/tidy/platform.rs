//! Rule: platform `cfg`s live only in `sys/` modules and `os.rs`.
//!
//! A platform `cfg` is a `#[cfg(..)]`, `#![cfg(..)]`, `cfg!(..)` or the predicate of
//! a `#[cfg_attr(..)]` that names `unix`, `windows`, `target_os`, `target_family`,
//! `target_env` or `target_vendor`. It may appear in files under a `sys/` directory
//! and in files named `sys.rs` or `os.rs`. In a crate's `lib.rs` two forms are allowed,
//! the module selection of STYLE.md: `#[cfg_attr(<platform>, path = "sys/unix.rs")]`
//! (a `cfg_attr` whose only attribute is `path = "…"`) and a `#[cfg(<platform>)]`
//! directly followed by `compile_error!`. Everything else is portable code.
//!
//! The rule applies to the library sources under `crates/`; the crates' `tests/`,
//! `benches/` and `examples/` directories and the workspace's `tests`, `benches`,
//! `examples` and `xtask` packages are exempt: tests of platform behaviour and tools
//! may pick a platform where they stand.

use super::Violation;
use super::lexer::is_ident_char;
use super::walk::SourceFile;

/// The `cfg` keys and names that select a platform.
const PLATFORM_WORDS: [&str; 6] = [
    "unix",
    "windows",
    "target_os",
    "target_family",
    "target_env",
    "target_vendor",
];

/// Reports each platform `cfg` in a portable file of a library crate.
pub(crate) fn check(file: &SourceFile, out: &mut Vec<Violation>) {
    if !applies_to(file) || is_platform_file(file) {
        return;
    }
    let code = &file.masked.code;
    let lib_rs = file.name() == "lib.rs";
    for cfg in find_cfgs(code) {
        if !names_platform(cfg.predicate) || (lib_rs && is_module_selection(&cfg, code)) {
            continue;
        }
        let line = code[..cfg.start].matches('\n').count() + 1;
        let message =
            "platform `cfg` outside `sys/` and `os.rs` (move the code into a `sys` module)";
        out.push(Violation::new(file, line, message));
    }
}

/// A `cfg`, `cfg!` or `cfg_attr` found in masked code.
#[derive(Debug)]
struct Cfg<'a> {
    /// Byte offset of the `cfg` word.
    start: usize,
    /// Byte offset just past the closing parenthesis.
    end: usize,
    /// Whether it is a `cfg_attr`.
    is_attr: bool,
    /// The predicate (for `cfg_attr`, its first argument).
    predicate: &'a str,
    /// For `cfg_attr`, the attributes after the predicate; empty otherwise.
    attrs: &'a str,
}

/// Sources of library crates, outside their test, bench and example directories.
fn applies_to(file: &SourceFile) -> bool {
    let dirs = file.dirs();
    let in_crates = dirs.first() == Some(&"crates") && dirs.len() >= 2;
    in_crates && !matches!(dirs.get(2), Some(&("tests" | "benches" | "examples")))
}

/// Files where platform code belongs.
fn is_platform_file(file: &SourceFile) -> bool {
    file.dirs().contains(&"sys") || matches!(file.name(), "sys.rs" | "os.rs")
}

/// Every `cfg(..)`, `cfg!(..)` and `cfg_attr(..)` in `code`.
fn find_cfgs(code: &str) -> Vec<Cfg<'_>> {
    let mut found = Vec::new();
    for (start, _) in code.match_indices("cfg") {
        if code[..start].ends_with(is_ident_char) {
            continue;
        }
        let rest = &code[start + 3..];
        let is_attr = rest.starts_with("_attr");
        let rest = if is_attr { &rest[5..] } else { rest };
        if rest.starts_with(is_ident_char) {
            continue;
        }
        let after_bang = rest
            .trim_start()
            .strip_prefix('!')
            .unwrap_or(rest)
            .trim_start();
        let Some(open) = after_bang
            .strip_prefix('(')
            .map(|_| code.len() - after_bang.len())
        else {
            continue;
        };
        if let Some(cfg) = parse_parens(code, start, open, is_attr) {
            found.push(cfg);
        }
    }
    found
}

/// Reads the parenthesised arguments starting at `open` (the `(`).
fn parse_parens(code: &str, start: usize, open: usize, is_attr: bool) -> Option<Cfg<'_>> {
    let close = matching_paren(code, open)?;
    let inside = &code[open + 1..close];
    let (predicate, attrs) = match is_attr {
        true => split_first_arg(inside),
        false => (inside, ""),
    };
    Some(Cfg {
        start,
        end: close + 1,
        is_attr,
        predicate,
        attrs,
    })
}

/// The offset of the `)` that closes the `(` at `open`.
fn matching_paren(code: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    for (offset, c) in code[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 1 => return Some(open + offset),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Splits `a(b, c), d` at the first top-level comma.
fn split_first_arg(args: &str) -> (&str, &str) {
    let mut depth = 0;
    for (offset, c) in args.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => return (&args[..offset], &args[offset + 1..]),
            _ => {}
        }
    }
    (args, "")
}

/// Whether a predicate mentions one of [`PLATFORM_WORDS`].
fn names_platform(predicate: &str) -> bool {
    predicate
        .split(|c: char| !is_ident_char(c))
        .any(|word| PLATFORM_WORDS.contains(&word))
}

/// `#[cfg_attr(<p>, path = "…")]`, or `#[cfg(<p>)]` followed by `compile_error!`.
fn is_module_selection(cfg: &Cfg<'_>, code: &str) -> bool {
    if cfg.is_attr {
        return is_path_attr(cfg.attrs);
    }
    let in_attribute = code[..cfg.start].trim_end().ends_with("#[");
    let after = code[cfg.end..].trim_start().strip_prefix(']').unwrap_or("");
    in_attribute && after.trim_start().starts_with("compile_error!")
}

/// Whether `attrs` is exactly `path = "…"` (the string's contents are masked).
fn is_path_attr(attrs: &str) -> bool {
    let value = attrs.trim().strip_prefix("path").map(str::trim_start);
    let value = value.and_then(|v| v.strip_prefix('=')).map(str::trim);
    value.is_some_and(|v| {
        v.len() >= 2 && v.starts_with('"') && v.ends_with('"') && v.matches('"').count() == 2
    })
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
    fn platform_cfgs_in_portable_files_are_flagged() {
        let text = "#[cfg(unix)]\nfn a() {}\nfn b() -> bool { cfg!(windows) }\n#[cfg(any(\n    feature = \"x\",\n    target_os = \"linux\"))]\nfn c() {}\n";
        assert_eq!(lines_flagged("crates/a/src/net.rs", text), [1, 3, 4]);
        assert_eq!(
            lines_flagged("crates/a/src/lib.rs", "#![cfg_attr(unix, doc = \"x\")]\n"),
            [1]
        );
    }

    #[test]
    fn non_platform_cfgs_pass() {
        let text = "#[cfg(test)]\nmod tests {}\n#[cfg(feature = \"unix\")]\nfn a() {}\n#[cfg_attr(docsrs, doc = \"windows\")]\nfn b() {}\n// #[cfg(unix)]\n";
        assert_eq!(
            lines_flagged("crates/a/src/net.rs", text),
            Vec::<usize>::new()
        );
    }

    #[test]
    fn sys_and_os_files_may_use_them() {
        let text = "#[cfg(target_os = \"linux\")]\nfn a() {}\n";
        for path in [
            "crates/a/src/sys/unix.rs",
            "crates/a/src/sys/unix/epoll.rs",
            "crates/a/src/os.rs",
            "crates/a/src/sys.rs",
        ] {
            assert_eq!(lines_flagged(path, text), Vec::<usize>::new(), "{path}");
        }
    }

    #[test]
    fn outside_library_sources_the_rule_does_not_apply() {
        let text = "#[cfg(unix)]\nfn a() {}\n";
        for path in [
            "crates/a/tests/it/main.rs",
            "crates/a/examples/e.rs",
            "tests/tests/a.rs",
            "xtask/src/main.rs",
        ] {
            assert_eq!(lines_flagged(path, text), Vec::<usize>::new(), "{path}");
        }
    }

    #[test]
    fn lib_rs_may_select_the_sys_module() {
        let text = "#[cfg_attr(unix, path = \"sys/unix.rs\")]\n#[cfg_attr(windows, path = \"sys/windows.rs\")]\nmod sys;\n#[cfg(not(any(unix, windows)))]\ncompile_error!(\"unsupported platform\");\n";
        assert_eq!(
            lines_flagged("crates/a/src/lib.rs", text),
            Vec::<usize>::new()
        );
        assert_eq!(lines_flagged("crates/a/src/other.rs", text), [1, 2, 4]);
        let text = "#[cfg(unix)]\nmod sys;\n#[cfg_attr(unix, path = \"a.rs\", allow(x))]\nmod b;\n";
        assert_eq!(lines_flagged("crates/a/src/lib.rs", text), [1, 3]);
    }
}
