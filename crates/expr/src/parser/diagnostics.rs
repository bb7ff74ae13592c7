//! The parser's error messages: what was expected, what was found, and what to write instead.

use std::ops::Range;

use rollgate_core::suggest as closest;

use super::Parser;
use crate::ast::Scope;
use crate::error::{ErrorKind, ExprError};
use crate::lexer::{Token, TokenKind};

impl Parser<'_> {
    pub(super) fn error(
        &self,
        kind: ErrorKind,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> ExprError {
        ExprError::new(self.src, kind, span, message)
    }

    /// The error an invalid token carries, or "expected …, found …" (with `help`) for a valid one.
    pub(super) fn unexpected(
        &self,
        found: &Token,
        expected: &str,
        help: Option<String>,
    ) -> ExprError {
        if let TokenKind::Invalid(_) = found.kind {
            return self.invalid_token(found);
        }
        let text = &self.src[found.span.clone()];
        let found_desc = match found.kind {
            TokenKind::Number { .. } => format!("number `{text}`"),
            TokenKind::Ident => format!("name `{text}`"),
            _ => format!("`{text}`"),
        };
        let mut err = self.error(
            ErrorKind::Syntax,
            found.span.clone(),
            format!("expected {expected}, found {found_desc}"),
        );
        err.help = help;
        err
    }

    pub(super) fn invalid_token(&self, token: &Token) -> ExprError {
        match &token.kind {
            TokenKind::Invalid(invalid) => {
                let mut err = self.error(invalid.kind, token.span.clone(), invalid.message.clone());
                err.help.clone_from(&invalid.help);
                err
            }
            _ => self.unexpected(token, "something else", None),
        }
    }

    pub(super) fn at_end(&self, expected: &str) -> ExprError {
        let end = self.src.len();
        self.error(
            ErrorKind::Syntax,
            end..end,
            format!("expected {expected}, found the end of the condition"),
        )
    }

    pub(super) fn expected_operand(&self) -> ExprError {
        const WHAT: &str = "a number, a metric or `(`";
        let Some(found) = self.peek() else {
            return self.at_end(WHAT);
        };
        let glued_number = self.tokens.get(self.pos + 1).filter(|t| {
            matches!(t.kind, TokenKind::Number { .. }) && t.span.start == found.span.end
        });
        let help = match (&found.kind, glued_number) {
            (TokenKind::Dot, Some(number)) => Some(format!(
                "write `0{}`",
                &self.src[found.span.start..number.span.end]
            )),
            (TokenKind::And | TokenKind::Or, _) if self.pos == 0 => {
                Some("start with a comparison".to_owned())
            }
            (TokenKind::Not, _) => {
                Some("`not` applies to a whole comparison: write `not (a > b)`".to_owned())
            }
            _ => None,
        };
        self.unexpected(found, WHAT, help)
    }

    pub(super) fn chained(&self, second: &Token) -> ExprError {
        let op = &self.src[second.span.clone()];
        self.error(
            ErrorKind::Syntax,
            second.span.clone(),
            format!("comparisons cannot be chained (second `{op}`)"),
        )
        .with_help("join two comparisons with `and`, e.g. `a > 1 and a < 5`")
    }

    pub(super) fn unknown_scope(&self, token: &Token, word: &str) -> ExprError {
        let scopes = Scope::ALL.map(Scope::name);
        let err = self.error(
            ErrorKind::UnknownScope,
            token.span.clone(),
            format!("unknown scope \"{word}\""),
        );
        match closest(word, scopes) {
            Some(s) => err.with_help(format!("did you mean \"{s}\"?")),
            None => err.with_help("scopes are `canary`, `baseline` and `stable`"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::parser::parse;

    fn message(src: &str) -> String {
        parse(src).unwrap_err().to_string()
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            message(""),
            "empty condition (write a condition such as `error_rate > 5%`)"
        );
        assert_eq!(
            message("   "),
            "empty condition (write a condition such as `error_rate > 5%`)"
        );
        assert_eq!(
            message("a >"),
            "expected a number, a metric or `(`, found the end of the condition"
        );
        assert_eq!(
            message("a > * 2"),
            "expected a number, a metric or `(`, found `*`"
        );
        assert_eq!(
            message("a > .5"),
            "expected a number, a metric or `(`, found `.` (write `0.5`)"
        );
        assert_eq!(
            message("a > 1 b"),
            "expected `and`, `or` or the end, found name `b` (join comparisons with `and` or `or`)"
        );
        assert_eq!(
            message("a > 1)"),
            "expected `and`, `or` or the end, found `)` (no `(` to close here)"
        );
        assert_eq!(
            message("(a > 1"),
            "unclosed `(` (add a `)` where the parenthesised part ends)"
        );
        assert_eq!(
            message("(a > 1 b"),
            "expected `)`, found name `b` (to close the `(` at column 1)"
        );
        assert_eq!(
            message("1 < a < 5"),
            "comparisons cannot be chained (second `<`) (join two comparisons with `and`, e.g. `a > 1 and a < 5`)"
        );
        assert_eq!(message("a && b"), "unknown operator `&&` (write `and`)");
        assert_eq!(
            message("and a > 1"),
            "expected a number, a metric or `(`, found `and` (start with a comparison)"
        );
        assert_eq!(
            message("a > not b"),
            "expected a number, a metric or `(`, found `not` (`not` applies to a whole comparison: write `not (a > b)`)"
        );
    }

    #[test]
    fn scope_errors() {
        assert_eq!(
            message("baseline > 1"),
            "`baseline` needs a metric name (write `baseline.<metric>`, e.g. `baseline.error_rate`)"
        );
        assert_eq!(
            message("basline.a > 1"),
            "unknown scope \"basline\" (did you mean \"baseline\"?)"
        );
        assert_eq!(
            message("prod.a > 1"),
            "unknown scope \"prod\" (scopes are `canary`, `baseline` and `stable`)"
        );
        assert_eq!(
            message("baseline. > 1"),
            "expected a metric name after `baseline.`, found `>`"
        );
        assert_eq!(
            message("baseline."),
            "expected a metric name after `baseline.`, found the end of the condition"
        );
        assert_eq!(
            message("baseline.a.b > 1"),
            "a metric reference has at most one `.` (write `scope.metric`, e.g. `baseline.error_rate`)"
        );
    }
}
