//! The grammar, by precedence climbing over the tokens of [`crate::lexer`]:
//!
//! ```text
//! condition  = or EOF
//! or         = and ("or" and)*
//! and        = not ("and" not)*
//! not        = "not" not | comparison
//! comparison = sum (cmp_op sum)?          -- never chained
//! sum        = product (("+" | "-") product)*
//! product    = unary (("*" | "/") unary)*
//! unary      = "-" unary | atom
//! atom       = number | name | scope "." name | "(" or ")"
//! ```

use crate::ast::{ArithOp, CmpOp, Expr, ExprKind, Literal, LogicOp, MetricRef, Scope};
use crate::error::{ErrorKind, ExprError, position};
use crate::lexer::{Token, TokenKind, lex};

mod diagnostics;

/// How deeply parentheses, `not` and unary `-` may nest.
pub(crate) const MAX_NESTING: usize = 32;

type Parsed = Result<Expr, ExprError>;

/// Parses a condition into its syntax tree without looking at metric names or types; see
/// [`crate::Condition::parse`] for the checked form.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let tokens = lex(src).map_err(|token| Parser::new(src, &[]).invalid_token(&token))?;
    let mut parser = Parser::new(src, &tokens);
    if tokens.is_empty() {
        return Err(parser
            .error(ErrorKind::Syntax, 0..src.len(), "empty condition")
            .with_help("write a condition such as `error_rate > 5%`"));
    }
    let expr = parser.or()?;
    match parser.peek() {
        None => Ok(expr),
        Some(t) => {
            let help = match t.kind {
                TokenKind::RParen => "no `(` to close here",
                _ => "join comparisons with `and` or `or`",
            };
            Err(parser.unexpected(t, "`and`, `or` or the end", Some(help.to_owned())))
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    tokens: &'a [Token],
    pos: usize,
    nesting: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, tokens: &'a [Token]) -> Parser<'a> {
        Parser {
            src,
            tokens,
            pos: 0,
            nesting: 0,
        }
    }

    fn or(&mut self) -> Parsed {
        let is_or = |k: &TokenKind| (*k == TokenKind::Or).then_some(LogicOp::Or);
        self.chain(Parser::and, is_or, ExprKind::Logic)
    }

    fn and(&mut self) -> Parsed {
        let is_and = |k: &TokenKind| (*k == TokenKind::And).then_some(LogicOp::And);
        self.chain(Parser::not, is_and, ExprKind::Logic)
    }

    fn not(&mut self) -> Parsed {
        match self.peek() {
            Some(t) if t.kind == TokenKind::Not => {
                let start = t.span.start;
                self.pos += 1;
                let operand = self.nested(start, Parser::not)?;
                let span = start..operand.span.end;
                Ok(Expr::new(ExprKind::Not(Box::new(operand)), span))
            }
            _ => self.comparison(),
        }
    }

    fn comparison(&mut self) -> Parsed {
        let lhs = self.sum()?;
        let Some(op) = self.peek().and_then(|t| cmp_op(&t.kind)) else {
            return Ok(lhs);
        };
        self.pos += 1;
        let rhs = self.sum()?;
        if let Some(next) = self.peek().filter(|t| cmp_op(&t.kind).is_some()) {
            return Err(self.chained(next));
        }
        let span = lhs.span.start..rhs.span.end;
        Ok(Expr::new(
            ExprKind::Compare(op, Box::new(lhs), Box::new(rhs)),
            span,
        ))
    }

    fn sum(&mut self) -> Parsed {
        let op = |k: &TokenKind| match k {
            TokenKind::Plus => Some(ArithOp::Add),
            TokenKind::Minus => Some(ArithOp::Sub),
            _ => None,
        };
        self.chain(Parser::product, op, ExprKind::Arith)
    }

    fn product(&mut self) -> Parsed {
        let op = |k: &TokenKind| match k {
            TokenKind::Star => Some(ArithOp::Mul),
            TokenKind::Slash => Some(ArithOp::Div),
            _ => None,
        };
        self.chain(Parser::unary, op, ExprKind::Arith)
    }

    fn unary(&mut self) -> Parsed {
        match self.peek() {
            Some(t) if t.kind == TokenKind::Minus => {
                let start = t.span.start;
                self.pos += 1;
                let operand = self.nested(start, Parser::unary)?;
                let span = start..operand.span.end;
                Ok(Expr::new(ExprKind::Neg(Box::new(operand)), span))
            }
            _ => self.atom(),
        }
    }

    fn atom(&mut self) -> Parsed {
        let Some(token) = self.peek() else {
            return Err(self.expected_operand());
        };
        self.pos += 1;
        match &token.kind {
            TokenKind::Number { magnitude, unit } => {
                let lit = Literal {
                    magnitude: *magnitude,
                    unit: *unit,
                };
                Ok(Expr::new(ExprKind::Literal(lit), token.span.clone()))
            }
            TokenKind::Ident => self.metric(token),
            TokenKind::LParen => self.parenthesised(token),
            _ => {
                self.pos -= 1;
                Err(self.expected_operand())
            }
        }
    }

    /// `name` or `scope.name`, the identifier `first` already consumed.
    fn metric(&mut self, first: &Token) -> Parsed {
        let word = &self.src[first.span.clone()];
        if self.peek().is_none_or(|t| t.kind != TokenKind::Dot) {
            if let Some(scope) = Scope::from_name(word) {
                return Err(self
                    .error(
                        ErrorKind::Syntax,
                        first.span.clone(),
                        format!("`{scope}` needs a metric name"),
                    )
                    .with_help(format!(
                        "write `{scope}.<metric>`, e.g. `{scope}.error_rate`"
                    )));
            }
            let name = MetricRef {
                scope: Scope::Canary,
                name: word.to_owned(),
            };
            return Ok(Expr::new(ExprKind::Metric(name), first.span.clone()));
        }
        let Some(scope) = Scope::from_name(word) else {
            return Err(self.unknown_scope(first, word));
        };
        self.pos += 1;
        let name = match self.peek() {
            Some(t) if t.kind == TokenKind::Ident => t,
            found => {
                let what = format!("a metric name after `{scope}.`");
                return Err(match found {
                    Some(t) => self.unexpected(t, &what, None),
                    None => self.at_end(&what),
                });
            }
        };
        self.pos += 1;
        if let Some(dot) = self.peek().filter(|t| t.kind == TokenKind::Dot) {
            return Err(self
                .error(
                    ErrorKind::Syntax,
                    dot.span.clone(),
                    "a metric reference has at most one `.`",
                )
                .with_help("write `scope.metric`, e.g. `baseline.error_rate`"));
        }
        let metric = MetricRef {
            scope,
            name: self.src[name.span.clone()].to_owned(),
        };
        Ok(Expr::new(
            ExprKind::Metric(metric),
            first.span.start..name.span.end,
        ))
    }

    /// `( or )`, the `(` already consumed.
    fn parenthesised(&mut self, open: &Token) -> Parsed {
        let inner = self.nested(open.span.start, Parser::or)?;
        match self.peek() {
            Some(t) if t.kind == TokenKind::RParen => {
                self.pos += 1;
                Ok(Expr::new(inner.kind, open.span.start..t.span.end))
            }
            Some(t) => {
                let column = position(self.src, open.span.start).1;
                let help = format!("to close the `(` at column {column}");
                Err(self.unexpected(t, "`)`", Some(help)))
            }
            None => Err(self
                .error(ErrorKind::Syntax, open.span.clone(), "unclosed `(`")
                .with_help("add a `)` where the parenthesised part ends")),
        }
    }

    /// `operand (op operand)*`, folded to the left.
    fn chain<O>(
        &mut self,
        operand: fn(&mut Self) -> Parsed,
        op: impl Fn(&TokenKind) -> Option<O>,
        build: fn(O, Box<Expr>, Box<Expr>) -> ExprKind,
    ) -> Parsed {
        let mut lhs = operand(self)?;
        while let Some(o) = self.peek().and_then(|t| op(&t.kind)) {
            self.pos += 1;
            let rhs = operand(self)?;
            let span = lhs.span.start..rhs.span.end;
            lhs = Expr::new(build(o, Box::new(lhs), Box::new(rhs)), span);
        }
        Ok(lhs)
    }

    /// Runs `inner` one nesting level deeper, refusing to go past [`MAX_NESTING`].
    fn nested(&mut self, at: usize, inner: fn(&mut Self) -> Parsed) -> Parsed {
        if self.nesting == MAX_NESTING {
            let end = self.src[at..]
                .chars()
                .next()
                .map_or(at, |c| at + c.len_utf8());
            return Err(self
                .error(
                    ErrorKind::TooComplex,
                    at..end,
                    format!("nested more than {MAX_NESTING} levels deep"),
                )
                .with_help("simplify the condition"));
        }
        self.nesting += 1;
        let result = inner(self);
        self.nesting -= 1;
        result
    }

    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos)
    }
}

fn cmp_op(kind: &TokenKind) -> Option<CmpOp> {
    match kind {
        TokenKind::Cmp(op) => Some(*op),
        _ => None,
    }
}
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The tree as an s-expression, so tests can see grouping.
    fn sexp(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Literal(lit) => lit.to_string(),
            ExprKind::Metric(m) => m.to_string(),
            ExprKind::Neg(x) => format!("(neg {})", sexp(x)),
            ExprKind::Not(x) => format!("(not {})", sexp(x)),
            ExprKind::Arith(op, l, r) => format!("({} {} {})", op.symbol(), sexp(l), sexp(r)),
            ExprKind::Compare(op, l, r) => format!("({} {} {})", op.symbol(), sexp(l), sexp(r)),
            ExprKind::Logic(op, l, r) => format!("({} {} {})", op.keyword(), sexp(l), sexp(r)),
        }
    }

    fn tree(src: &str) -> String {
        sexp(&parse(src).unwrap())
    }

    #[test]
    fn the_issue_examples() {
        assert_eq!(tree("error_rate > 5%"), "(> error_rate 5%)");
        assert_eq!(
            tree("p99_latency > 1.5 * baseline.p99_latency"),
            "(> p99_latency (* 1.5 baseline.p99_latency))"
        );
        assert_eq!(
            tree("conversion_rate < baseline.conversion_rate - 2%"),
            "(< conversion_rate (- baseline.conversion_rate 2%))"
        );
        assert_eq!(
            tree("error_rate > 1% and requests > 500"),
            "(and (> error_rate 1%) (> requests 500))"
        );
        assert_eq!(
            tree("avg_page_load_ms - baseline.avg_page_load_ms > 200ms"),
            "(> (- avg_page_load_ms baseline.avg_page_load_ms) 200ms)"
        );
    }

    #[test]
    fn literals_and_metric_references() {
        assert_eq!(tree("a > 0.5%"), "(> a 0.5%)");
        assert_eq!(tree("a > 1.5s"), "(> a 1.5s)");
        assert_eq!(tree("a > 10_000"), "(> a 10000)");
        assert_eq!(tree("canary.a > stable.a"), "(> a stable.a)");
        assert_eq!(tree("baseline . a > 1"), "(> baseline.a 1)");
    }

    #[test]
    fn arithmetic_precedence_and_associativity() {
        assert_eq!(tree("a > 1 + 2 * 3"), "(> a (+ 1 (* 2 3)))");
        assert_eq!(tree("a > (1 + 2) * 3"), "(> a (* (+ 1 2) 3))");
        assert_eq!(tree("a > 1 - 2 - 3"), "(> a (- (- 1 2) 3))");
        assert_eq!(tree("a > 8 / 4 / 2"), "(> a (/ (/ 8 4) 2))");
        assert_eq!(tree("a > -b * 2"), "(> a (* (neg b) 2))");
        assert_eq!(tree("a > --1"), "(> a (neg (neg 1)))");
        assert_eq!(tree("a > 1 - -1"), "(> a (- 1 (neg 1)))");
    }

    #[test]
    fn every_comparison_operator() {
        for op in [">", ">=", "<", "<=", "==", "!="] {
            assert_eq!(tree(&format!("a {op} 1")), format!("({op} a 1)"));
        }
    }

    #[test]
    fn logic_precedence() {
        assert_eq!(
            tree("a > 1 or b > 1 and c > 1"),
            "(or (> a 1) (and (> b 1) (> c 1)))"
        );
        assert_eq!(
            tree("(a > 1 or b > 1) and c > 1"),
            "(and (or (> a 1) (> b 1)) (> c 1))"
        );
        assert_eq!(tree("not a > 1 and b > 1"), "(and (not (> a 1)) (> b 1))");
        assert_eq!(tree("not not a > 1"), "(not (not (> a 1)))");
        assert_eq!(
            tree("a > 1 AND b > 1 Or c > 1"),
            "(or (and (> a 1) (> b 1)) (> c 1))"
        );
    }

    #[test]
    fn spans_cover_the_source_of_each_node() {
        let src = "not (error_rate > 5%) or -baseline.x < 2";
        let e = parse(src).unwrap();
        assert_eq!(e.span, 0..src.len());
        let (l, r) = e.operands().unwrap();
        assert_eq!(&src[l.span.clone()], "not (error_rate > 5%)");
        assert_eq!(&src[r.span.clone()], "-baseline.x < 2");
        let ExprKind::Not(inner) = &l.kind else {
            panic!("not a not: {l:?}")
        };
        assert_eq!(&src[inner.span.clone()], "(error_rate > 5%)");
        let (neg, _) = r.operands().unwrap();
        assert_eq!(&src[neg.span.clone()], "-baseline.x");
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!(
            "{}a{} > 1",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        assert!(parse(&ok).is_ok());
        let deep = format!(
            "{}a{} > 1",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        let err = parse(&deep).unwrap_err();
        assert_eq!(err.kind, ErrorKind::TooComplex);
        assert_eq!(err.span, MAX_NESTING..MAX_NESTING + 1);
        assert_eq!(
            parse(&format!("a > {}1", "-".repeat(100)))
                .unwrap_err()
                .kind,
            ErrorKind::TooComplex
        );
        assert_eq!(
            parse(&format!("{}a > 1", "not ".repeat(100)))
                .unwrap_err()
                .kind,
            ErrorKind::TooComplex
        );
    }
}
