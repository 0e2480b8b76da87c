//! Claim formulas: a small, safe arithmetic language for a rule's claim value.
//!
//! `formula = "hours * rate * 2 + amount"` in a rule computes a contribution's claim value.
//! It is parsed when the agreement is read (a mistake is reported by `ovn check`, with its
//! position) and evaluated with exact decimals; it is never handed to an interpreter.
//!
//! Grammar: numbers (`2`, `0.5`), the variables `hours`, `amount`, `quantity` (a field the
//! contribution does not have counts as 0) and `rate` (the rate the rule would use: an error
//! at payout time when there is none), `+ - * /`, unary minus, parentheses, and `min(a, b)`,
//! `max(a, b)`. Division by a zero constant is refused when the agreement is read; division by
//! zero at payout time, overflow, a negative result and a result past the largest claim value
//! (2 × 10^13, see [`super::bounds`]) are errors that name the contribution.

use rust_decimal::Decimal;

use super::bounds;
use super::value::parse_decimal_text;

/// A variable a formula may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    /// The contribution's hours (0 if none).
    Hours,
    /// Its amount (0 if none).
    Amount,
    /// Its quantity (0 if none).
    Quantity,
    /// The rate the rule would apply.
    Rate,
}

impl Var {
    const ALL: [(&'static str, Var); 4] = [
        ("hours", Var::Hours),
        ("amount", Var::Amount),
        ("quantity", Var::Quantity),
        ("rate", Var::Rate),
    ];
}

/// A parsed expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// A decimal constant.
    Num(Decimal),
    /// A variable.
    Var(Var),
    /// Negation.
    Neg(Box<Expr>),
    /// A binary operation: `+ - * /`.
    Bin(char, Box<Expr>, Box<Expr>),
    /// `min` or `max` of two expressions.
    Call(&'static str, Box<Expr>, Box<Expr>),
}

/// A formula as written, with its parsed form. Equal when the text is equal.
#[derive(Clone, Debug)]
pub struct Formula {
    /// The text, as written in the agreement.
    pub source: String,
    /// The parsed expression.
    pub expr: Expr,
}

impl PartialEq for Formula {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}
impl Eq for Formula {}

/// A mistake in a formula's text: what, and at which byte of the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {})", .at + 1)]
pub struct FormulaError {
    /// Byte offset within the formula text.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

/// A formula's text quoted for a message: a long one is cut after 60 characters.
pub fn preview(source: &str) -> String {
    match source.char_indices().nth(60) {
        Some((cut, _)) => format!("{:?}…", &source[..cut]),
        None => format!("{source:?}"),
    }
}

/// The values of the variables for one contribution.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inputs {
    /// Hours.
    pub hours: Decimal,
    /// Amount.
    pub amount: Decimal,
    /// Quantity.
    pub quantity: Decimal,
    /// The rate, if there is one.
    pub rate: Option<Decimal>,
}

/// Why evaluation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// Division by zero.
    #[error("division by zero")]
    DivisionByZero,
    /// A result too large for an exact decimal.
    #[error("a value too large to compute exactly")]
    Overflow,
    /// `rate` is used and nothing gives a rate.
    #[error("`rate` is used but no rate applies")]
    NoRate,
    /// The result is more than the largest claim value ([`bounds::MAX_CLAIM`]).
    #[error(
        "the value {0} is more than {max}, the largest claim value (see Largest values in ovn-ledger(5))",
        max = bounds::MAX_CLAIM
    )]
    TooLarge(Decimal),
}

/// The longest formula accepted, in bytes: a claim rule is a line of arithmetic, and a bound
/// keeps every walk over the parsed tree (checks, evaluation, freeing) shallow.
pub const MAX_FORMULA_LEN: usize = 256;

/// The deepest nesting accepted: parentheses, unary minus and `min`/`max` calls together.
pub const MAX_FORMULA_DEPTH: usize = 32;

impl Formula {
    /// Parses a formula. Longer than [`MAX_FORMULA_LEN`] or nested deeper than
    /// [`MAX_FORMULA_DEPTH`] is an error, so hostile text cannot overflow the stack.
    pub fn parse(source: &str) -> Result<Formula, FormulaError> {
        if source.len() > MAX_FORMULA_LEN {
            return Err(FormulaError {
                at: MAX_FORMULA_LEN,
                message: format!("the formula is longer than {MAX_FORMULA_LEN} bytes"),
            });
        }
        let mut p = Parser {
            s: source.as_bytes(),
            i: 0,
            depth: 0,
        };
        let expr = p.expr()?;
        p.ws();
        if p.i < p.s.len() {
            return Err(p.err(format!("unexpected `{}`", p.s[p.i] as char)));
        }
        if contains_zero_division(&expr) {
            return Err(FormulaError {
                at: 0,
                message: "divides by zero".to_owned(),
            });
        }
        Ok(Formula {
            source: source.to_owned(),
            expr,
        })
    }

    /// Whether the formula uses `rate`.
    pub fn uses_rate(&self) -> bool {
        fn uses(e: &Expr) -> bool {
            match e {
                Expr::Var(Var::Rate) => true,
                Expr::Num(_) | Expr::Var(_) => false,
                Expr::Neg(a) => uses(a),
                Expr::Bin(_, a, b) | Expr::Call(_, a, b) => uses(a) || uses(b),
            }
        }
        uses(&self.expr)
    }

    /// Evaluates the formula exactly. A result past [`bounds::MAX_CLAIM`] is an error: the
    /// bound keeps every sum of claims exact, and a formula is the one way a valid ledger
    /// could reach past it.
    pub fn eval(&self, inputs: &Inputs) -> Result<Decimal, EvalError> {
        let value = eval(&self.expr, inputs)?;
        if value > bounds::MAX_CLAIM {
            return Err(EvalError::TooLarge(value));
        }
        Ok(value)
    }
}

fn eval(e: &Expr, x: &Inputs) -> Result<Decimal, EvalError> {
    Ok(match e {
        Expr::Num(d) => *d,
        Expr::Var(Var::Hours) => x.hours,
        Expr::Var(Var::Amount) => x.amount,
        Expr::Var(Var::Quantity) => x.quantity,
        Expr::Var(Var::Rate) => x.rate.ok_or(EvalError::NoRate)?,
        Expr::Neg(a) => -eval(a, x)?,
        Expr::Bin(op, a, b) => {
            let (a, b) = (eval(a, x)?, eval(b, x)?);
            match op {
                '+' => a.checked_add(b).ok_or(EvalError::Overflow)?,
                '-' => a.checked_sub(b).ok_or(EvalError::Overflow)?,
                '*' => a.checked_mul(b).ok_or(EvalError::Overflow)?,
                _ => {
                    if b.is_zero() {
                        return Err(EvalError::DivisionByZero);
                    }
                    a.checked_div(b).ok_or(EvalError::Overflow)?
                }
            }
        }
        Expr::Call(name, a, b) => {
            let (a, b) = (eval(a, x)?, eval(b, x)?);
            if *name == "min" { a.min(b) } else { a.max(b) }
        }
    })
}

/// Whether some division has a divisor that is a constant zero.
fn contains_zero_division(e: &Expr) -> bool {
    match e {
        Expr::Num(_) | Expr::Var(_) => false,
        Expr::Neg(a) => contains_zero_division(a),
        Expr::Bin(op, a, b) => {
            (*op == '/' && constant(b) == Some(Decimal::ZERO))
                || contains_zero_division(a)
                || contains_zero_division(b)
        }
        Expr::Call(_, a, b) => contains_zero_division(a) || contains_zero_division(b),
    }
}

/// The value of an expression without variables.
fn constant(e: &Expr) -> Option<Decimal> {
    match e {
        Expr::Num(d) => Some(*d),
        Expr::Var(_) => None,
        _ => eval(e, &Inputs::default()).ok().filter(|_| !has_var(e)),
    }
}

fn has_var(e: &Expr) -> bool {
    match e {
        Expr::Num(_) => false,
        Expr::Var(_) => true,
        Expr::Neg(a) => has_var(a),
        Expr::Bin(_, a, b) | Expr::Call(_, a, b) => has_var(a) || has_var(b),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    /// How deeply the current position is nested.
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, message: String) -> FormulaError {
        FormulaError {
            at: self.i,
            message,
        }
    }

    /// Enters one level of nesting, refusing to go past [`MAX_FORMULA_DEPTH`].
    fn enter(&mut self) -> Result<(), FormulaError> {
        self.depth += 1;
        if self.depth > MAX_FORMULA_DEPTH {
            return Err(self.err(format!(
                "the formula nests deeper than {MAX_FORMULA_DEPTH} levels"
            )));
        }
        Ok(())
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    // expr := term (('+' | '-') term)*
    fn expr(&mut self) -> Result<Expr, FormulaError> {
        let mut left = self.term()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            let right = self.term()?;
            left = Expr::Bin(op as char, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    // term := unary (('*' | '/') unary)*
    fn term(&mut self) -> Result<Expr, FormulaError> {
        let mut left = self.unary()?;
        while let Some(op @ (b'*' | b'/')) = self.peek() {
            self.i += 1;
            let right = self.unary()?;
            left = Expr::Bin(op as char, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    // unary := '-' unary | atom
    fn unary(&mut self) -> Result<Expr, FormulaError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner)));
        }
        self.atom()
    }

    // atom := number | variable | name '(' expr ',' expr ')' | '(' expr ')'
    fn atom(&mut self) -> Result<Expr, FormulaError> {
        match self.peek() {
            None => Err(self.err("the formula ends too early".to_owned())),
            Some(b'(') => {
                self.i += 1;
                self.enter()?;
                let e = self.expr()?;
                self.depth -= 1;
                if self.peek() != Some(b')') {
                    return Err(self.err("expected `)`".to_owned()));
                }
                self.i += 1;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.')
                {
                    self.i += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
                parse_decimal_text(text)
                    .map(Expr::Num)
                    .map_err(|_| FormulaError {
                        at: start,
                        message: format!("`{text}` is not a number"),
                    })
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
                {
                    self.i += 1;
                }
                let name = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
                if let Some((_, v)) = Var::ALL.iter().find(|(n, _)| *n == name) {
                    return Ok(Expr::Var(*v));
                }
                let func = match name {
                    "min" => "min",
                    "max" => "max",
                    _ => {
                        return Err(FormulaError {
                            at: start,
                            message: format!(
                                "unknown name `{name}` (use hours, amount, quantity, rate, min, max)"
                            ),
                        });
                    }
                };
                if self.peek() != Some(b'(') {
                    return Err(self.err(format!("expected `(` after `{func}`")));
                }
                self.i += 1;
                self.enter()?;
                let a = self.expr()?;
                if self.peek() != Some(b',') {
                    return Err(self.err(format!("`{func}` takes two values separated by `,`")));
                }
                self.i += 1;
                let b = self.expr()?;
                if self.peek() != Some(b')') {
                    return Err(self.err("expected `)`".to_owned()));
                }
                self.i += 1;
                self.depth -= 1;
                Ok(Expr::Call(func, Box::new(a), Box::new(b)))
            }
            Some(c) => Err(self.err(format!("unexpected `{}`", c as char))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn evaluates_exactly() {
        let f = Formula::parse("hours * rate * 2 + amount / 4").unwrap();
        let x = Inputs {
            hours: d("1.5"),
            amount: d("10"),
            quantity: Decimal::ZERO,
            rate: Some(d("30")),
        };
        assert_eq!(f.eval(&x).unwrap(), d("92.5"));
        assert!(f.uses_rate());
        let f = Formula::parse("min(hours, 8) * 0.1 - -1").unwrap();
        assert_eq!(f.eval(&x).unwrap(), d("1.15"));
        assert_eq!(
            Formula::parse("(1 + 2) * 3").unwrap().eval(&x).unwrap(),
            d("9")
        );
    }

    #[test]
    fn refuses_deep_and_long_formulas_without_overflowing() {
        // Within the limits: parsed and evaluated.
        let ok = format!(
            "{}1{}",
            "(".repeat(MAX_FORMULA_DEPTH),
            ")".repeat(MAX_FORMULA_DEPTH)
        );
        assert!(Formula::parse(&ok).is_ok());
        // One level deeper, in each way of nesting: refused where the limit is crossed.
        for (open, close) in [("(", ")"), ("-", ""), ("min(", ",1)")] {
            let deep = format!(
                "{}1{}",
                open.repeat(MAX_FORMULA_DEPTH + 1),
                close.repeat(MAX_FORMULA_DEPTH + 1)
            );
            let e = Formula::parse(&deep).unwrap_err();
            assert!(e.message.contains("nests deeper"), "{open}: {e}");
        }
        // What overflowed the stack before: 5000 parentheses, a 20,000-term sum.
        let e = Formula::parse(&format!("{}1{}", "(".repeat(5000), ")".repeat(5000))).unwrap_err();
        assert!(e.message.contains("longer than"), "{e}");
        let e = Formula::parse(&vec!["hours"; 20_000].join("+")).unwrap_err();
        assert_eq!(e.at, MAX_FORMULA_LEN);
        // The longest sum that fits still evaluates.
        let sum = vec!["1"; MAX_FORMULA_LEN / 2].join("+");
        // On half a rayon worker's stack, with room to spare in a debug build.
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                let f = Formula::parse(&sum).unwrap();
                assert_eq!(f.eval(&Inputs::default()).unwrap(), d("128"));
                assert!(!f.uses_rate());
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn refuses_mistakes_with_positions() {
        let e = Formula::parse("hours * rat").unwrap_err();
        assert_eq!(e.at, 8);
        assert!(e.message.contains("unknown name `rat`"));
        assert!(Formula::parse("hours *").is_err());
        assert!(Formula::parse("(hours").is_err());
        assert!(Formula::parse("hours ** 2").is_err());
        assert!(Formula::parse("1.2.3").is_err());
        assert!(Formula::parse("max(1)").is_err());
        assert_eq!(
            Formula::parse("hours / (2 - 2)").unwrap_err().message,
            "divides by zero"
        );
        assert_eq!(
            Formula::parse("hours / 0").unwrap_err().message,
            "divides by zero"
        );
    }

    #[test]
    fn runtime_errors() {
        let x = Inputs::default();
        assert_eq!(
            Formula::parse("1 / hours").unwrap().eval(&x),
            Err(EvalError::DivisionByZero)
        );
        assert_eq!(
            Formula::parse("rate").unwrap().eval(&x),
            Err(EvalError::NoRate)
        );
        // Past the largest claim value, and past what a decimal holds: clean errors.
        assert_eq!(
            Formula::parse("20000000000000.000001").unwrap().eval(&x),
            Err(EvalError::TooLarge(d("20000000000000.000001")))
        );
        assert!(Formula::parse("20000000000000").unwrap().eval(&x).is_ok());
        assert_eq!(
            Formula::parse("9999999999999999999999999999 * 9999999999999999999999999999")
                .unwrap()
                .eval(&x),
            Err(EvalError::Overflow)
        );
    }
}
