//! Just enough of a Rust lexer for line-based rules: it masks comments and the
//! contents of string and char literals, so `"unsafe {"` in a string or `dbg!` in a
//! comment is never mistaken for code.
//!
//! [`mask`] returns two texts as long as the source, line for line: `code`, with every
//! comment and literal content replaced by spaces (quotes kept), and `comments`, with
//! only comment text kept. Line numbers and column positions (for ASCII) stay put.
//! It knows line and nested block comments, escapes, raw strings with any number of
//! `#`, byte/C-string prefixes, and char literals versus lifetimes. It does not parse.

/// A source text split into what is code and what is comment.
#[derive(Debug)]
pub(crate) struct Masked {
    /// The source with comments and literal contents blanked.
    pub(crate) code: String,
    /// The source with everything but comment text blanked.
    pub(crate) comments: String,
}

impl Masked {
    /// `code` split into lines.
    pub(crate) fn code_lines(&self) -> Vec<&str> {
        self.code.lines().collect()
    }

    /// `comments` split into lines (as many as [`Masked::code_lines`]).
    pub(crate) fn comment_lines(&self) -> Vec<&str> {
        self.comments.lines().collect()
    }
}

/// Masks `source`; see the module docs.
pub(crate) fn mask(source: &str) -> Masked {
    let mut lexer = Lexer {
        chars: source.chars().collect(),
        pos: 0,
        code: String::with_capacity(source.len()),
        comments: String::with_capacity(source.len()),
    };
    while lexer.pos < lexer.chars.len() {
        lexer.token();
    }
    Masked {
        code: lexer.code,
        comments: lexer.comments,
    }
}

/// Whether `c` can be part of an identifier.
pub(crate) fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The masking state: the input and the two outputs written so far.
struct Lexer {
    /// The source, as chars.
    chars: Vec<char>,
    /// The next char to read.
    pos: usize,
    /// The code output.
    code: String,
    /// The comment output.
    comments: String,
}

impl Lexer {
    /// Consumes one token (or one char of plain code).
    fn token(&mut self) {
        match self.chars[self.pos] {
            '/' if self.peek(1) == Some('/') => self.line_comment(),
            '/' if self.peek(1) == Some('*') => self.block_comment(),
            '"' => self.string(),
            'r' if self.at_raw_string() => self.raw_string(),
            '\'' => self.quote(),
            _ => self.keep(),
        }
    }

    /// The char `ahead` positions on, if any.
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    /// Whether the input continues with `text`.
    fn at(&self, text: &str) -> bool {
        text.chars()
            .enumerate()
            .all(|(i, c)| self.peek(i) == Some(c))
    }

    /// Copies the next char to the code output.
    fn keep(&mut self) {
        let c = self.chars[self.pos];
        self.code.push(c);
        self.comments.push(blank(c));
        self.pos += 1;
    }

    /// Blanks the next char in both outputs (literal contents).
    fn hide(&mut self) {
        let c = self.chars[self.pos];
        self.code.push(blank(c));
        self.comments.push(blank(c));
        self.pos += 1;
    }

    /// Copies the next char to the comment output.
    fn note(&mut self) {
        let c = self.chars[self.pos];
        self.code.push(blank(c));
        self.comments.push(c);
        self.pos += 1;
    }

    /// `// ...` up to the end of the line.
    fn line_comment(&mut self) {
        while self.peek(0).is_some_and(|c| c != '\n') {
            self.note();
        }
    }

    /// `/* ... */`, nested.
    fn block_comment(&mut self) {
        let mut depth = 0;
        while self.pos < self.chars.len() {
            if self.at("/*") {
                depth += 1;
                self.note();
            } else if self.at("*/") {
                depth -= 1;
                self.note();
                self.note();
                if depth == 0 {
                    return;
                }
                continue;
            }
            self.note();
        }
    }

    /// `"..."` with escapes; the quotes stay, the contents go.
    fn string(&mut self) {
        self.keep();
        while let Some(c) = self.peek(0) {
            match c {
                '\\' => {
                    self.hide();
                    if self.pos < self.chars.len() {
                        self.hide();
                    }
                }
                '"' => return self.keep(),
                _ => self.hide(),
            }
        }
    }

    /// Whether an `r` starts a raw string: `r"`, `r#"`, also after a `b` or `c`
    /// prefix, but not inside an identifier such as `bar"` or a raw identifier `r#fn`.
    fn at_raw_string(&self) -> bool {
        let before = |back: usize| self.pos.checked_sub(back).map(|i| self.chars[i]);
        let starts_word = match before(1) {
            Some('b' | 'c') => !before(2).is_some_and(is_ident_char),
            Some(c) => !is_ident_char(c),
            None => true,
        };
        let hashes = (1..).take_while(|&i| self.peek(i) == Some('#')).count();
        starts_word && self.peek(1 + hashes) == Some('"')
    }

    /// `r#"..."#`: no escapes; ends at a quote followed by as many `#`.
    fn raw_string(&mut self) {
        self.keep();
        let mut hashes = 0;
        while self.peek(0) == Some('#') {
            hashes += 1;
            self.keep();
        }
        self.keep();
        let closing: String = std::iter::once('"')
            .chain(std::iter::repeat_n('#', hashes))
            .collect();
        while self.pos < self.chars.len() {
            if self.at(&closing) {
                return (0..=hashes).for_each(|_| self.keep());
            }
            self.hide();
        }
    }

    /// A `'`: a char literal (`'a'`, `'\n'`, `'\u{1F600}'`) is masked, a lifetime or
    /// label (`'a`, `'static`) is code.
    fn quote(&mut self) {
        if self.peek(1) == Some('\\') {
            self.keep();
            self.hide();
            self.hide();
            while self.peek(0).is_some_and(|c| c != '\'' && c != '\n') {
                self.hide();
            }
            if self.peek(0) == Some('\'') {
                self.keep();
            }
        } else if self.peek(2) == Some('\'') && self.peek(1) != Some('\n') {
            self.keep();
            self.hide();
            self.keep();
        } else {
            self.keep();
        }
    }
}

/// What a masked char becomes: newlines stay so lines keep their numbers.
fn blank(c: char) -> char {
    if c == '\n' { '\n' } else { ' ' }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_move_to_the_comment_text() {
        let masked = mask("let a = 1; // dbg!(a)\n/* x /* nested */ y */ b");
        let code: Vec<&str> = masked.code_lines().into_iter().map(str::trim).collect();
        assert_eq!(code, ["let a = 1;", "b"]);
        assert_eq!(masked.comment_lines()[0].trim(), "// dbg!(a)");
        assert_eq!(masked.comment_lines()[1].trim(), "/* x /* nested */ y */");
    }

    #[test]
    fn string_contents_are_blanked() {
        let masked = mask(r#"f("unsafe { \" }", 'x', '\'', b"todo!()")"#);
        assert_eq!(masked.code, r#"f("             ", ' ', '  ', b"       ")"#);
    }

    #[test]
    fn raw_strings_end_at_their_own_hashes() {
        let masked = mask("r##\"a \"# b\"## + br\"c\" + bar\"d\"");
        assert_eq!(masked.code, "r##\"      \"## + br\" \" + bar\" \"");
    }

    #[test]
    fn lifetimes_stay_code() {
        let masked = mask("fn f<'a>(x: &'a str) -> &'static str { 'outer: loop {} }");
        assert!(masked.code.contains("&'static str"));
        assert!(masked.code.contains("'outer: loop {}"));
    }

    #[test]
    fn multi_line_strings_keep_line_numbers() {
        let masked = mask("let s = \"one\ntwo\";\nlet t = 1;");
        assert_eq!(
            masked.code_lines(),
            ["let s = \"   ", "   \";", "let t = 1;"]
        );
    }
}
