//! The largest values `ovn` accepts, and why they are enough for every sum to stay exact.
//!
//! A `rust_decimal::Decimal` is a 96-bit integer mantissa with a decimal scale: it holds any
//! number whose digits, *at its scale*, fit below 2^96 ≈ 7.9 × 10^28. Beyond that an addition
//! panics ("Addition overflowed") or, when the scale can give way, silently drops the last
//! digits, so a payout could stop summing to its revenue. Rather than hope, `ovn` bounds
//! every number it reads, so that every sum and product it forms over the largest ledger it
//! is built for fits exactly, at the currency's precision:
//!
//! | value (per record)                              | largest           | places |
//! |-------------------------------------------------|-------------------|--------|
//! | money `amount` (contribution, payout, line, fixed budget), revenue | 10^12 | the currency's (≤ 6) |
//! | `hours`                                         | 10^5              | 4      |
//! | rates (`rate`, `[rates]`, `use_rate`)           | 10^7              | 6      |
//! | `multiplier`, `cap`                             | 10                | 6      |
//! | `quantity`                                      | 10^12             | 6      |
//! | a claim value (a formula's result included)     | 2 × 10^13         |        |
//!
//! The arithmetic, for a ledger of 10^8 records (a hundred times the largest benchmarked):
//!
//! - hours × rate ≤ 10^5 × 10^7 = 10^12, so a claim value (hours × rate + amount, times a
//!   multiplier and an owner's share ≤ 1) is at most (10^12 + 10^12) × 10 = 2 × 10^13, the
//!   bound [`MAX_CLAIM`] also puts on formulas; a debt's owed amount (value × cap) is at most
//!   2 × 10^14.
//! - Summed over 10^8 records: amounts ≤ 10^20, hours ≤ 10^13, claim values ≤ 2 × 10^21,
//!   owed amounts ≤ 2 × 10^22. At 6 decimal places (the most a currency may have) the
//!   largest of these is 2 × 10^28 minor units, below 7.9 × 10^28: every total of money, of
//!   what was owed and of what was repaid is exact to the minor unit.
//! - A payout's revenue is at most 10^12, so its budgets and lines are. The split
//!   multiplies a budget by one claim's weight (at most its owed amount) before dividing by
//!   the bucket's total weight: 10^12 × 2 × 10^14 = 2 × 10^26 fits (`payout::share` still
//!   divides first where a product would not).
//!
//! `ovn check` reports a value beyond its bound as `out-of-range` (naming file, line and
//! field); `ovn payout` (and `--amount` of `ovn review` and `ovn report claims`) refuses a
//! revenue beyond [`MAX_AMOUNT`]; a formula whose result passes [`MAX_CLAIM`] is an error
//! naming the contribution. Every command computes only from a ledger that loaded without a
//! diagnostic, and the cache holds no decimal past [`MAX_AMOUNT`] (a damaged or crafted
//! entry is a miss), so the sums of payout, report, site, review and export are proven by
//! these bounds rather than checked one by one; the products whose operands a rule chooses
//! (a formula, a multiplier, a cap) use checked operations and fail with a clean error.

use rust_decimal::Decimal;

/// `n` as a decimal, at compile time.
const fn whole(n: u64) -> Decimal {
    Decimal::from_parts(n as u32, (n >> 32) as u32, 0, false, 0)
}

/// The largest money amount of one record, and the largest revenue: 10^12.
pub const MAX_AMOUNT: Decimal = whole(1_000_000_000_000);
/// The largest number of hours of one contribution: 10^5 (over eleven years, day and night).
pub const MAX_HOURS: Decimal = whole(100_000);
/// The largest rate per hour (rule, rate table, resource use rate): 10^7.
pub const MAX_RATE: Decimal = whole(10_000_000);
/// The largest `multiplier` or `cap`: 10.
pub const MAX_FACTOR: Decimal = whole(10);
/// The largest `quantity` of a material contribution: 10^12.
pub const MAX_QUANTITY: Decimal = whole(1_000_000_000_000);
/// The largest claim value: (MAX_HOURS × MAX_RATE + MAX_AMOUNT) × MAX_FACTOR = 2 × 10^13.
pub const MAX_CLAIM: Decimal = whole(20_000_000_000_000);
/// The largest ledger the bounds are worked out for: 10^8 records.
pub const MAX_RECORDS: u64 = 100_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_hold_their_promise() {
        assert_eq!(MAX_AMOUNT.to_string(), "1000000000000");
        assert_eq!(MAX_CLAIM, (MAX_HOURS * MAX_RATE + MAX_AMOUNT) * MAX_FACTOR);
        let records = Decimal::from(MAX_RECORDS);
        let six = Decimal::new(1, 6);
        // The largest sums over the largest ledger, plus one minor unit of a 6-place
        // currency, are still exact: the unit is not lost.
        for per_record in [MAX_AMOUNT, MAX_CLAIM, MAX_CLAIM * MAX_FACTOR] {
            let sum = per_record.checked_mul(records).unwrap();
            let plus = sum.checked_add(six).unwrap();
            assert_eq!(plus - sum, six, "{per_record}");
        }
        let hours = MAX_HOURS.checked_mul(records).unwrap();
        assert_eq!(
            hours.checked_add(Decimal::new(1, 4)).unwrap() - hours,
            Decimal::new(1, 4)
        );
    }
}
