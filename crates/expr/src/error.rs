//! What went wrong in a condition, where, and what to write instead.

use std::fmt::Write as _;
use std::ops::Range;

/// Which kind of mistake a condition has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The text does not follow the grammar (a missing operand, an unknown operator).
    Syntax,
    /// A name that is not a declared metric.
    UnknownMetric,
    /// A prefix before `.` that is not `canary`, `baseline` or `stable`.
    UnknownScope,
    /// A suffix after a number that is not `%`, `ms` or `s`.
    UnknownUnit,
    /// Operands whose types do not fit (a ratio compared with a duration, `and` on numbers).
    Type,
    /// The condition is too long or nested too deeply to be evaluated safely.
    TooComplex,
}

/// A positioned error in a condition, with a hint when there is an obvious fix.
///
/// `Display` gives one line (`unknown metric "eror_rate" (did you mean "error_rate"?)`), for
/// config validation that prefixes the field path; [`ExprError::render`] gives the source line
/// with a caret under the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", help.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
pub struct ExprError {
    /// Which kind of mistake.
    pub kind: ErrorKind,
    /// Byte offsets of the offending text in the source.
    pub span: Range<usize>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to write instead, when the fix is clear.
    pub help: Option<String>,
    text: String,
}

impl ExprError {
    /// An error in `source` at `span`.
    pub fn new(
        source: &str,
        kind: ErrorKind,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> ExprError {
        let message = message.into();
        ExprError {
            kind,
            span,
            message,
            help: None,
            text: source.to_owned(),
        }
    }

    /// The same error with a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> ExprError {
        self.help = Some(help.into());
        self
    }

    /// The condition text the error points into.
    pub fn source_text(&self) -> &str {
        &self.text
    }

    /// The 1-based line of the start of the error.
    pub fn line(&self) -> usize {
        position(&self.text, self.span.start).0
    }

    /// The 1-based column of the start of the error, counted in characters (not bytes).
    pub fn column(&self) -> usize {
        position(&self.text, self.span.start).1
    }

    /// The error as a multi-line report with the source line and a caret under the problem:
    ///
    /// ```text
    /// error: unknown metric "eror_rate"
    ///  --> line 1, column 1
    ///   |
    /// 1 | eror_rate > 5%
    ///   | ^^^^^^^^^ did you mean "error_rate"?
    /// ```
    pub fn render(&self) -> String {
        let (line, column) = (self.line(), self.column());
        let start = floor_boundary(&self.text, self.span.start);
        let line_start = self.text[..start].rfind('\n').map_or(0, |at| at + 1);
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |at| start + at);
        let text = &self.text[line_start..line_end];
        let end = floor_boundary(&self.text, self.span.end.clamp(start, line_end));
        let carets = self.text[start..end].chars().count().max(1);
        let pad = " ".repeat(line.to_string().len());
        let mut out = format!(
            "error: {}\n{pad}--> line {line}, column {column}\n",
            self.message
        );
        let shown: String = text
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .collect();
        let _ = writeln!(out, "{pad} |\n{line} | {}", shown.trim_end());
        let _ = write!(
            out,
            "{pad} | {}{}",
            " ".repeat(column - 1),
            "^".repeat(carets)
        );
        if let Some(help) = &self.help {
            let _ = write!(out, " {help}");
        }
        out
    }
}

/// The 1-based line and character column of byte offset `at` in `src`.
pub(crate) fn position(src: &str, at: usize) -> (usize, usize) {
    let at = floor_boundary(src, at);
    let line_start = src[..at].rfind('\n').map_or(0, |i| i + 1);
    (
        src[..line_start].matches('\n').count() + 1,
        src[line_start..at].chars().count() + 1,
    )
}

/// The largest char boundary at or below `at` (so spans never split a character).
fn floor_boundary(s: &str, at: usize) -> usize {
    s.floor_char_boundary(at.min(s.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_line_with_a_caret_and_the_hint() {
        let err = ExprError::new(
            "eror_rate > 5%",
            ErrorKind::UnknownMetric,
            0..9,
            "unknown metric \"eror_rate\"",
        )
        .with_help("did you mean \"error_rate\"?");
        let expected = "\
error: unknown metric \"eror_rate\"
 --> line 1, column 1
  |
1 | eror_rate > 5%
  | ^^^^^^^^^ did you mean \"error_rate\"?";
        assert_eq!(err.render(), expected);
        assert_eq!(
            err.to_string(),
            "unknown metric \"eror_rate\" (did you mean \"error_rate\"?)"
        );
    }

    #[test]
    fn columns_count_characters_and_lines_count_newlines() {
        let src = "error_rate\u{a0}> 5%\n  and été > 1";
        let at = src.find("été").unwrap_or_default();
        let err = ExprError::new(src, ErrorKind::Syntax, at..at + "été".len(), "unexpected");
        assert_eq!((err.line(), err.column()), (2, 7));
        let first = ExprError::new(src, ErrorKind::Syntax, 13..14, "x");
        assert_eq!((first.line(), first.column()), (1, 13));
        let expected = "\
error: unexpected
 --> line 2, column 7
  |
2 |   and été > 1
  |       ^^^";
        assert_eq!(err.render(), expected);
    }

    #[test]
    fn an_empty_span_at_the_end_gets_one_caret_after_the_text() {
        let err = ExprError::new(
            "error_rate >",
            ErrorKind::Syntax,
            12..12,
            "expected a value",
        );
        assert!(
            err.render()
                .ends_with("1 | error_rate >\n  |             ^"),
            "{}",
            err.render()
        );
    }

    #[test]
    fn wide_line_numbers_widen_the_gutter() {
        let src = format!("{}a ? b", "\n".repeat(11));
        let err = ExprError::new(&src, ErrorKind::Syntax, 13..14, "unexpected character `?`");
        let expected = "\
error: unexpected character `?`
  --> line 12, column 3
   |
12 | a ? b
   |   ^";
        assert_eq!(err.render(), expected);
    }

    #[test]
    fn out_of_range_spans_do_not_panic() {
        let err = ExprError::new("é", ErrorKind::Syntax, 1..7, "x");
        assert_eq!((err.line(), err.column()), (1, 1));
        assert!(err.render().contains("^"));
    }
}
