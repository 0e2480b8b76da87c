//! New contribution ids: unique without coordination, time-sortable, filename-safe.
//!
//! An id is 26 characters of lowercase Crockford base32 (`0123456789abcdefghjkmnpqrstvwxyz`,
//! no `i`, `l`, `o`, `u`), laid out like a ULID: the first 10 characters are the moment of
//! writing in milliseconds since the Unix epoch, the last 16 are 80 random bits. Ids sort by
//! when they were written (to the millisecond), and two people writing in the same
//! millisecond on different machines collide with a probability of about 2^-80. The id says
//! when the record was *written*, not the date of the contribution, and never depends on its
//! content. The caller supplies the clock and the random bytes, so this stays pure.

use super::value::Id;

/// The Crockford base32 alphabet, lowercase.
pub const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Length of a generated id.
pub const LEN: usize = 26;

/// Builds the id for a record written at `millis` (since the Unix epoch) with 10 random bytes.
pub fn contribution_id(millis: u64, random: [u8; 10]) -> Id {
    let mut out = [0u8; LEN];
    // 48 bits of time in 10 characters (the top 2 bits of the first one are zero).
    let time = millis & ((1 << 48) - 1);
    for (i, slot) in out[..10].iter_mut().enumerate() {
        let shift = 5 * (9 - i);
        *slot = ALPHABET[((time >> shift) & 31) as usize];
    }
    // 80 random bits in 16 characters.
    let mut bits = random
        .iter()
        .fold(0u128, |acc, &b| (acc << 8) | u128::from(b));
    for slot in out[10..].iter_mut().rev() {
        *slot = ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    let text = std::str::from_utf8(&out).expect("the alphabet is ASCII");
    Id::parse(text).expect("a base32 id is a valid id")
}

/// The writing time encoded in a generated id, in milliseconds since the epoch.
pub fn millis_of(id: &str) -> Option<u64> {
    if id.len() != LEN {
        return None;
    }
    id.bytes().take(10).try_fold(0u64, |acc, b| {
        let v = ALPHABET.iter().position(|&a| a == b)? as u64;
        Some((acc << 5) | v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let id = contribution_id(0, [0; 10]);
        assert_eq!(id.as_str(), "00000000000000000000000000");
        let id = contribution_id(1, [0xff; 10]);
        assert_eq!(id.as_str(), "0000000001zzzzzzzzzzzzzzzz");
        // 2026-03-10T00:00:00Z, as in the examples of ovn-ledger(5).
        let id = contribution_id(1_773_100_800_000, [0; 10]);
        assert_eq!(&id.as_str()[..10], "01kkagp600");
        assert_eq!(millis_of(id.as_str()), Some(1_773_100_800_000));
    }

    #[test]
    fn sorts_by_time() {
        let a = contribution_id(1_773_100_800_000, [0xff; 10]);
        let b = contribution_id(1_773_100_800_001, [0; 10]);
        assert!(a < b);
    }
}
