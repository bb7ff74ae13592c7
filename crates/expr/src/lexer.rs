//! Turns condition text into tokens with byte spans, using `winnow` over a span-tracking slice.
//!
//! Lexing never fails: text that is not a token of the language (`&&`, `≥`, `5min`) becomes an
//! [`TokenKind::Invalid`] token carrying the error to report, so the parser reports problems in
//! source order and each one at its own position.

use std::ops::Range;

use winnow::combinator::{dispatch, opt, peek};
use winnow::prelude::*;
use winnow::stream::{LocatingSlice, Location, Stream};
use winnow::token::{any, one_of, take_while};

use crate::ast::{CmpOp, LiteralUnit};
use crate::error::ErrorKind;

/// The most tokens a condition may have; longer input is rejected before parsing, which
/// bounds the depth of every recursion over the tree.
pub(crate) const MAX_TOKENS: usize = 512;

/// One token and where it is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: Range<usize>,
}

/// The tokens of the language.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TokenKind {
    Number {
        magnitude: f64,
        unit: LiteralUnit,
    },
    Ident,
    And,
    Or,
    Not,
    Dot,
    LParen,
    RParen,
    Plus,
    Minus,
    Star,
    Slash,
    Cmp(CmpOp),
    /// Text that is not a token; lexing goes on, the parser reports it when it gets there.
    Invalid(Invalid),
}

/// Why a piece of text is not a token, and what to write instead.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Invalid {
    pub kind: ErrorKind,
    pub message: String,
    pub help: Option<String>,
}

/// A token as `winnow` recognises it, before numbers and words are interpreted.
#[derive(Clone, Debug)]
enum Raw<'s> {
    Number { digits: &'s str, suffix: &'s str },
    Word(&'s str),
    Operator(&'s str),
    Punct(TokenKind),
    Other(&'s str),
}

type Input<'s> = LocatingSlice<&'s str>;

/// Splits `src` into tokens; an error only when the condition has more than [`MAX_TOKENS`].
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, Token> {
    let mut input = LocatingSlice::new(src);
    let mut tokens = Vec::new();
    loop {
        let start = match space.parse_next(&mut input) {
            Ok(_) if input.eof_offset() > 0 => input.current_token_start(),
            Ok(_) => return Ok(tokens),
            Err(_) => return Err(invalid_rest(src, input.current_token_start())),
        };
        let token = match raw.with_span().parse_next(&mut input) {
            Ok((raw, span)) => Token {
                kind: interpret(raw),
                span,
            },
            // `raw` accepts any character, so this is unreachable; still, never panic on input.
            Err(_) => return Err(invalid_rest(src, start)),
        };
        if tokens.len() == MAX_TOKENS {
            return Err(too_long(token.span));
        }
        tokens.push(token);
    }
}

fn space<'s>(i: &mut Input<'s>) -> winnow::Result<&'s str> {
    take_while(0.., char::is_whitespace).parse_next(i)
}

fn raw<'s>(i: &mut Input<'s>) -> winnow::Result<Raw<'s>> {
    dispatch! {peek(any);
        '0'..='9' => number,
        'a'..='z' | 'A'..='Z' | '_' => word.map(Raw::Word),
        '.' => '.'.value(Raw::Punct(TokenKind::Dot)),
        '(' => '('.value(Raw::Punct(TokenKind::LParen)),
        ')' => ')'.value(Raw::Punct(TokenKind::RParen)),
        '+' => '+'.value(Raw::Punct(TokenKind::Plus)),
        '-' => '-'.value(Raw::Punct(TokenKind::Minus)),
        '*' => '*'.value(Raw::Punct(TokenKind::Star)),
        '/' => '/'.value(Raw::Punct(TokenKind::Slash)),
        '<' | '>' | '=' | '!' => take_while(1.., ['<', '>', '=', '!']).map(Raw::Operator),
        '&' | '|' => take_while(1.., ['&', '|']).map(Raw::Operator),
        _ => any.take().map(Raw::Other),
    }
    .parse_next(i)
}

/// Digits (with `_` separators), an optional fraction, and whatever suffix is glued to it.
fn number<'s>(i: &mut Input<'s>) -> winnow::Result<Raw<'s>> {
    let digits = (
        take_while(1.., ('0'..='9', '_')),
        opt(('.', one_of('0'..='9'), take_while(0.., ('0'..='9', '_')))),
    )
        .take()
        .parse_next(i)?;
    let suffix =
        take_while(0.., |c: char| c.is_alphanumeric() || c == '_' || c == '%').parse_next(i)?;
    Ok(Raw::Number { digits, suffix })
}

fn word<'s>(i: &mut Input<'s>) -> winnow::Result<&'s str> {
    take_while(1.., |c: char| c.is_ascii_alphanumeric() || c == '_').parse_next(i)
}

fn interpret(raw: Raw<'_>) -> TokenKind {
    match raw {
        Raw::Number { digits, suffix } => number_token(digits, suffix),
        Raw::Word(w) => keyword(w).unwrap_or(TokenKind::Ident),
        Raw::Operator(op) => operator(op),
        Raw::Punct(kind) => kind,
        Raw::Other(text) => other(text),
    }
}

/// Keywords are case-insensitive (`AND` reads like SQL and is accepted); names are not.
fn keyword(word: &str) -> Option<TokenKind> {
    if word.eq_ignore_ascii_case("and") {
        Some(TokenKind::And)
    } else if word.eq_ignore_ascii_case("or") {
        Some(TokenKind::Or)
    } else if word.eq_ignore_ascii_case("not") {
        Some(TokenKind::Not)
    } else {
        None
    }
}

fn number_token(digits: &str, suffix: &str) -> TokenKind {
    if !underscores_between_digits(digits) {
        return invalid(
            ErrorKind::Syntax,
            format!("misplaced `_` in number `{digits}`"),
            Some("`_` may only separate digits, as in `10_000`".to_owned()),
        );
    }
    let Some(unit) = LiteralUnit::from_suffix(suffix) else {
        return unknown_unit(digits, suffix);
    };
    match digits.replace('_', "").parse::<f64>() {
        Ok(magnitude) if magnitude.is_finite() => TokenKind::Number { magnitude, unit },
        _ => invalid(
            ErrorKind::Syntax,
            format!("number `{digits}` is too large"),
            None,
        ),
    }
}

fn underscores_between_digits(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    bytes.iter().enumerate().all(|(at, &b)| {
        b != b'_'
            || (at > 0
                && bytes[at - 1].is_ascii_digit()
                && bytes.get(at + 1).is_some_and(u8::is_ascii_digit))
    })
}

fn unknown_unit(digits: &str, suffix: &str) -> TokenKind {
    let seconds_per = match suffix {
        "m" | "min" => Some(60.0),
        "h" | "hr" => Some(3600.0),
        "d" => Some(86_400.0),
        _ => None,
    };
    let magnitude = digits.replace('_', "").parse::<f64>().ok();
    let help = match (seconds_per, magnitude) {
        (Some(per), Some(n)) => {
            format!("durations are written in `ms` or `s`: write `{}s`", n * per)
        }
        (Some(_), None) => "durations are written in `ms` or `s`".to_owned(),
        _ => match suffix {
            "us" | "µs" | "ns" => {
                "durations are written in `ms` (fractions allowed, e.g. `0.5ms`)"
            }
            _ if suffix.starts_with(['e', 'E']) => {
                "scientific notation is not supported; write the digits out"
            }
            _ => "units are `%`, `ms` and `s`, written right after the number",
        }
        .to_owned(),
    };
    invalid(
        ErrorKind::UnknownUnit,
        format!("unknown unit `{suffix}`"),
        Some(help),
    )
}

fn operator(op: &str) -> TokenKind {
    let (fix, message) = match op {
        ">" => return TokenKind::Cmp(CmpOp::Gt),
        ">=" => return TokenKind::Cmp(CmpOp::Ge),
        "<" => return TokenKind::Cmp(CmpOp::Lt),
        "<=" => return TokenKind::Cmp(CmpOp::Le),
        "==" => return TokenKind::Cmp(CmpOp::Eq),
        "!=" => return TokenKind::Cmp(CmpOp::Ne),
        "&&" | "&" => ("write `and`", "unknown operator"),
        "||" | "|" => ("write `or`", "unknown operator"),
        "!" => ("write `not`", "unknown operator"),
        "=" | "===" => ("write `==` to compare", "unknown operator"),
        "<>" | "!==" => ("write `!=`", "unknown operator"),
        "=>" => ("write `>=`", "unknown operator"),
        "=<" => ("write `<=`", "unknown operator"),
        _ => (
            "comparisons are `>`, `>=`, `<`, `<=`, `==` and `!=`",
            "unknown operator",
        ),
    };
    invalid(
        ErrorKind::Syntax,
        format!("{message} `{op}`"),
        Some(fix.to_owned()),
    )
}

fn other(text: &str) -> TokenKind {
    let help = match text {
        "≥" => Some("write `>=`"),
        "≤" => Some("write `<=`"),
        "≠" => Some("write `!=`"),
        "%" => Some("write the unit right after the number, without a space: `5%`"),
        "×" => Some("write `*`"),
        "÷" => Some("write `/`"),
        "−" | "–" => Some("write `-` (ASCII minus)"),
        "\"" | "'" | "`" => Some("metric names are written without quotes"),
        _ if text.chars().all(char::is_alphanumeric) => {
            Some("names are made of ASCII letters, digits and `_`")
        }
        _ => None,
    };
    invalid(
        ErrorKind::Syntax,
        format!("unexpected character `{text}`"),
        help.map(str::to_owned),
    )
}

fn invalid(kind: ErrorKind, message: String, help: Option<String>) -> TokenKind {
    TokenKind::Invalid(Invalid {
        kind,
        message,
        help,
    })
}

fn invalid_rest(src: &str, start: usize) -> Token {
    let kind = invalid(ErrorKind::Syntax, "unexpected text".to_owned(), None);
    Token {
        kind,
        span: start..src.len(),
    }
}

fn too_long(span: Range<usize>) -> Token {
    let kind = invalid(
        ErrorKind::TooComplex,
        format!("condition is too long (more than {MAX_TOKENS} tokens)"),
        Some("split it into several conditions".to_owned()),
    );
    Token { kind, span }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        lex(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    fn invalid_message(src: &str) -> (String, Option<String>) {
        match kinds(src).into_iter().find_map(|k| match k {
            TokenKind::Invalid(i) => Some(i),
            _ => None,
        }) {
            Some(i) => (i.message, i.help),
            None => panic!("no invalid token in {src:?}"),
        }
    }

    #[test]
    fn lexes_a_condition_with_spans() {
        let tokens = lex("p99_latency > 1.5 * baseline.p99_latency").unwrap();
        let spans: Vec<_> = tokens.iter().map(|t| t.span.clone()).collect();
        assert_eq!(
            spans,
            vec![0..11, 12..13, 14..17, 18..19, 20..28, 28..29, 29..40]
        );
        assert_eq!(
            tokens[2].kind,
            TokenKind::Number {
                magnitude: 1.5,
                unit: LiteralUnit::None
            }
        );
        assert_eq!(tokens[5].kind, TokenKind::Dot);
    }

    #[test]
    fn numbers_with_units_and_separators() {
        let n = |magnitude, unit| TokenKind::Number { magnitude, unit };
        assert_eq!(kinds("5%"), vec![n(5.0, LiteralUnit::Percent)]);
        assert_eq!(kinds("0.5%"), vec![n(0.5, LiteralUnit::Percent)]);
        assert_eq!(kinds("200ms"), vec![n(200.0, LiteralUnit::Millis)]);
        assert_eq!(kinds("1.5s"), vec![n(1.5, LiteralUnit::Seconds)]);
        assert_eq!(kinds("10_000"), vec![n(10_000.0, LiteralUnit::None)]);
        assert_eq!(kinds("5."), vec![n(5.0, LiteralUnit::None), TokenKind::Dot]);
    }

    #[test]
    fn keywords_are_case_insensitive_and_names_are_words() {
        assert_eq!(
            kinds("AND Or not"),
            vec![TokenKind::And, TokenKind::Or, TokenKind::Not]
        );
        assert_eq!(kinds("android"), vec![TokenKind::Ident]);
    }

    #[test]
    fn operators() {
        let cmp = |op| TokenKind::Cmp(op);
        assert_eq!(
            kinds("> >= < <= == != + - * / ( )"),
            vec![
                cmp(CmpOp::Gt),
                cmp(CmpOp::Ge),
                cmp(CmpOp::Lt),
                cmp(CmpOp::Le),
                cmp(CmpOp::Eq),
                cmp(CmpOp::Ne),
                TokenKind::Plus,
                TokenKind::Minus,
                TokenKind::Star,
                TokenKind::Slash,
                TokenKind::LParen,
                TokenKind::RParen,
            ]
        );
        assert_eq!(kinds("a>-5").len(), 4);
        assert_eq!(kinds("--5").len(), 3);
    }

    #[test]
    fn invalid_tokens_say_what_to_write() {
        assert_eq!(
            invalid_message("a && b"),
            ("unknown operator `&&`".into(), Some("write `and`".into()))
        );
        assert_eq!(invalid_message("a || b").1.as_deref(), Some("write `or`"));
        assert_eq!(invalid_message("!a").1.as_deref(), Some("write `not`"));
        assert_eq!(
            invalid_message("a = b").1.as_deref(),
            Some("write `==` to compare")
        );
        assert_eq!(invalid_message("a ≥ b").0, "unexpected character `≥`");
        assert_eq!(
            invalid_message("5 %").1.as_deref(),
            Some("write the unit right after the number, without a space: `5%`")
        );
        assert_eq!(invalid_message("5m").0, "unknown unit `m`");
        assert_eq!(invalid_message("1e3").0, "unknown unit `e3`");
        assert_eq!(invalid_message("1__0").0, "misplaced `_` in number `1__0`");
        assert_eq!(invalid_message("1_").0, "misplaced `_` in number `1_`");
    }

    #[test]
    fn unicode_whitespace_separates_tokens_and_spans_are_bytes() {
        let tokens = lex("a\u{a0}>\u{3000}5").unwrap();
        let spans: Vec<_> = tokens.iter().map(|t| t.span.clone()).collect();
        assert_eq!(spans, vec![0..1, 3..4, 7..8]);
    }

    #[test]
    fn too_many_tokens_is_an_error_at_the_first_extra_token() {
        let src = "a + ".repeat(MAX_TOKENS);
        let err = lex(&src).unwrap_err();
        assert_eq!(err.span, 4 * MAX_TOKENS / 2..4 * MAX_TOKENS / 2 + 1);
        assert!(lex(&"(".repeat(MAX_TOKENS)).is_ok());
    }

    #[test]
    fn huge_numbers_are_rejected() {
        let src = "9".repeat(400);
        assert_eq!(
            invalid_message(&src).0,
            format!("number `{src}` is too large")
        );
    }
}
