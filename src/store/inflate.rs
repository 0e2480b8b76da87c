//! A zlib inflater for the small streams a ledger's pack is made of (records and the deltas
//! between them, a few hundred bytes each), used before libdeflate and never instead of it.
//!
//! Why: libdeflate builds a block's decode tables by counting and sorting all 288 literal and
//! 32 distance code lengths, most of them zero in a short stream, each step a store the next
//! one waits on. For a 200-byte record that took longer than decoding it (a fifth of a cold
//! `check`'s CPU, measured at a million records). Here the code lengths are counted as the
//! block's header is decoded, zero runs skipped whole, and only the symbols in use are sorted.
//!
//! Tables have one level, as many bits as the block's longest codeword (7 bits or fewer in
//! four streams of five at a million records: 128 entries to fill where libdeflate fills
//! 2,048), up to 11 bits for literals and lengths and 8 for distances. A stream with a
//! longer code, an incomplete code, a stored block, a preset dictionary or anything it does
//! not expect is declined, not decoded. [`SmallInflater::zlib`] answers only `true` (the
//! output is whole, of exactly the expected size, and its Adler-32 is the stream's) or
//! `false`, and on `false` the caller inflates the stream with libdeflate, whose answer
//! (bytes or error) is the one that counts. So a flaw here can cost time, never bytes.

/// Most bits of the literal/length table; a longer literal/length code declines the stream.
const LIT_BITS: u32 = 11;
/// Literal/length codewords decoded after one refill, with no question asked about the bits
/// left: a refill makes at least 56.
const LITERALS_A_REFILL: usize = 4;
const _: () = assert!(LITERALS_A_REFILL as u32 * LIT_BITS <= 56);
/// Most bits of the distance table; a longer distance code declines the stream.
const DIST_BITS: u32 = 8;
/// Literal/length symbols (286 are valid; the fixed code gives lengths to 288).
const LIT_SYMS: usize = 288;
/// Distance symbols (30 are valid; the fixed code gives lengths to 32).
const DIST_SYMS: usize = 32;

/// Length symbols 257..=285: base length and extra bits.
const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Distance symbols 0..=29: base distance and extra bits.
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order in which a dynamic block gives the code-length code's lengths.
const PRECODE_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// A decode table of `N` entries (a power of two): entry `i` is `symbol << 8 | codeword
/// length` for the codeword that the low bits of `i` start with. A block's code uses the first
/// `mask + 1` entries. The size is fixed so that an index masked by `N - 1` needs no bounds
/// check in the decode loop.
struct Table<const N: usize> {
    entries: [u32; N],
    /// `2^bits - 1` for the block's longest codeword of `bits` bits.
    mask: usize,
}

impl<const N: usize> Table<N> {
    fn new() -> Table<N> {
        Table {
            entries: [0; N],
            mask: 0,
        }
    }
}

/// The tables, reused from stream to stream (boxed: 19 KiB).
struct Tables {
    /// The code-length code's (7 bits at most).
    pre: Table<128>,
    lit: Table<{ 1 << LIT_BITS }>,
    dist: Table<{ 1 << DIST_BITS }>,
    /// The fixed codes' tables, built once.
    fixed_lit: Table<{ 1 << LIT_BITS }>,
    fixed_dist: Table<{ 1 << DIST_BITS }>,
}

/// Decode tables and room to build them, reused from stream to stream.
pub(crate) struct SmallInflater {
    tables: Box<Tables>,
    room: Box<Scratch>,
}

impl SmallInflater {
    /// Empty tables and the fixed codes' tables.
    pub(crate) fn new() -> SmallInflater {
        let mut tables = Box::new(Tables {
            pre: Table::new(),
            lit: Table::new(),
            dist: Table::new(),
            fixed_lit: Table::new(),
            fixed_dist: Table::new(),
        });
        let mut room = Box::new(Scratch {
            used: [0; LENS],
            sorted: [0; LENS],
        });
        let mut lens = [0u8; LIT_SYMS];
        lens[..144].fill(8);
        lens[144..256].fill(9);
        lens[256..280].fill(7);
        lens[280..].fill(8);
        let built = build_of(&lens, &mut tables.fixed_lit, &mut room)
            && build_of(&[5; DIST_SYMS], &mut tables.fixed_dist, &mut room);
        debug_assert!(built, "the fixed codes are complete and short");
        SmallInflater { tables, room }
    }

    /// Inflates the zlib stream at the start of `input` into all of `out`, whose length is the
    /// size the stream must make. `true` when it did and the stream's checksum matches;
    /// `false` when it declined or the stream is not what it should be (then `out` holds
    /// anything, and libdeflate must decide).
    pub(crate) fn zlib(&mut self, input: &[u8], out: &mut [u8]) -> bool {
        let [cmf, flg, ..] = *input else {
            return false;
        };
        // Deflate, a window of at most 32 KiB, the header's check, no preset dictionary.
        if cmf & 15 != 8 || cmf >> 4 > 7 || (u16::from(cmf) << 8 | u16::from(flg)) % 31 != 0 {
            return false;
        }
        if flg & 0x20 != 0 {
            return false;
        }
        let t = &mut *self.tables;
        let mut bits = Bits::new(&input[2..]);
        let mut made = 0;
        loop {
            bits.refill();
            let last = bits.take(1) == 1;
            let ok = match bits.take(2) {
                1 => decode(&mut bits, &t.fixed_lit, &t.fixed_dist, out, &mut made),
                2 => {
                    read_codes(&mut bits, t, &mut self.room)
                        && decode(&mut bits, &t.lit, &t.dist, out, &mut made)
                }
                // A stored block (incompressible data, never a record) or an invalid one.
                _ => false,
            };
            if !ok {
                return false;
            }
            if last {
                break;
            }
        }
        if made != out.len() {
            return false;
        }
        bits.trailer()
            .is_some_and(|sum| sum == libdeflater::adler32(out))
    }
}

/// A little-endian bit reader that reads zeros past the end of its input (never memory past
/// it); whether a stream needed them is checked where its end is read ([`Bits::trailer`]).
/// `Copy`, so a loop can work on a copy of its own, kept in registers.
#[derive(Clone, Copy)]
struct Bits<'a> {
    data: &'a [u8],
    /// Bytes taken into `buf` (some of them past the end of `data`, as zeros).
    pos: usize,
    buf: u64,
    /// Bits of `buf` not yet consumed.
    n: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Bits<'a> {
        Bits {
            data,
            pos: 0,
            buf: 0,
            n: 0,
        }
    }

    /// Makes at least 56 bits available.
    #[inline(always)]
    fn refill(&mut self) {
        if let Some(word) = self.data.get(self.pos..).and_then(|d| d.first_chunk::<8>()) {
            // Bits past the new count are the next bytes' own, so taking them in again on
            // the next refill changes nothing.
            self.buf |= u64::from_le_bytes(*word) << self.n;
            self.pos += ((63 - self.n) >> 3) as usize;
            self.n |= 56;
        } else {
            // Within 8 bytes of the end: a byte at a time, zeros past it. By value, so that
            // a loop's copy of the reader is never in memory.
            (self.buf, self.n, self.pos) = refill_at_end(self.data, self.buf, self.n, self.pos);
        }
    }

    /// The next `k` bits (k ≤ the bits available).
    #[inline(always)]
    fn take(&mut self, k: u32) -> u32 {
        let v = (self.buf & ((1u64 << k) - 1)) as u32;
        self.consume(k);
        v
    }

    #[inline(always)]
    fn consume(&mut self, k: u32) {
        self.buf >>= k;
        self.n -= k;
    }

    /// Consumes the codeword of table entry `e` (its length is the entry's low byte). The
    /// shift takes the entry as it is (a shift by a `u64`'s width or more is not asked for:
    /// the count is the low six bits, which hold the length), so the next codeword's lookup
    /// waits on one instruction less: decoding is a chain of lookups, each waiting on the
    /// shift before it.
    #[inline(always)]
    fn consume_entry(&mut self, e: u32) {
        self.buf >>= e & 63;
        self.n -= e & 15;
    }

    /// The stream's Adler-32 (big-endian, from the next byte boundary), when the stream so far
    /// and its checksum lie inside the input.
    fn trailer(&self) -> Option<u32> {
        let used = (self.pos * 8).checked_sub(self.n as usize)?.div_ceil(8);
        let sum = self.data.get(used..used.checked_add(4)?)?;
        Some(u32::from_be_bytes(sum.try_into().ok()?))
    }
}

/// [`Bits::refill`] within 8 bytes of the end of `data`: the new `buf`, `n` and `pos`.
#[cold]
#[inline(never)]
fn refill_at_end(data: &[u8], mut buf: u64, mut n: u32, mut pos: usize) -> (u64, u32, usize) {
    while n <= 56 {
        let byte = data.get(pos).copied().unwrap_or(0);
        buf |= u64::from(byte) << n;
        pos += 1;
        n += 8;
    }
    (buf, n, pos)
}

/// Code lengths a dynamic block gives: 286 literal/length and 30 distance symbols at most.
const LENS: usize = 320;

/// Room to read a dynamic block's codes in, kept from block to block.
struct Scratch {
    /// The symbols with a codeword, in symbol order, each packed with its length (`len << 9 |
    /// sym`; literal/length and distance symbols in one sequence, as the header gives them).
    used: [u16; LENS],
    /// Room to put symbols in canonical order.
    sorted: [u16; LENS],
}

/// Builds `table` for the code of the lengths `lens` (one a symbol, in symbol order).
fn build_of<const N: usize>(lens: &[u8], table: &mut Table<N>, room: &mut Scratch) -> bool {
    let mut counts = [0u16; 16];
    let mut nused = 0;
    for (sym, &len) in lens.iter().enumerate() {
        if len != 0 && nused < LENS {
            counts[usize::from(len & 15)] += 1;
            room.used[nused] = u16::from(len & 15) << 9 | sym as u16;
            nused += 1;
        }
    }
    let (used, sorted) = (&room.used[..nused], &mut room.sorted);
    build(&counts, used, 0, table, sorted)
}

/// Fills `table` for a canonical code, as libdeflate does: codewords in canonical order, each
/// written once at its bit-reversed index, the table doubled as the length grows, to the
/// longest codeword's length. `counts` are the codewords of each length; `used` the symbols
/// that have one (`len << 9 | sym`, in symbol order), each less `base`; `sorted` is room to
/// put them in canonical order. `false` for a code that is not complete or has a codeword
/// longer than the table can hold.
fn build<const N: usize>(
    counts: &[u16; 16],
    used: &[u16],
    base: u16,
    table: &mut Table<N>,
    sorted: &mut [u16; LENS],
) -> bool {
    // Complete: the codewords' shares of the code space sum to exactly one.
    let mut space: u32 = 0;
    let mut longest = 0;
    for (len, &count) in counts.iter().enumerate().skip(1) {
        if count != 0 {
            longest = len;
        }
        space = (space << 1) + u32::from(count);
    }
    if space != 1 << 15 || 1 << longest > N {
        return false;
    }
    let mut offsets = [0u16; 16];
    for len in 1..15 {
        offsets[len + 1] = offsets[len] + counts[len];
    }
    for &packed in used {
        let len = usize::from(packed >> 9);
        let Some(slot) = sorted.get_mut(usize::from(offsets[len])) else {
            return false;
        };
        *slot = (packed & 511).wrapping_sub(base);
        offsets[len] += 1;
    }
    table.mask = (1 << longest) - 1;
    let table = &mut table.entries[..1 << longest];
    let mut sorted = sorted[..used.len()].iter();
    let mut len = 1;
    while counts[len] == 0 {
        len += 1;
    }
    let mut end = 1usize << len;
    let mut codeword = 0usize;
    loop {
        for _ in 0..counts[len] {
            let Some(&sym) = sorted.next() else {
                return false;
            };
            table[codeword] = u32::from(sym) << 8 | len as u32;
            if codeword == end - 1 {
                // The last codeword (all ones): double the table up to its size.
                while end < table.len() {
                    table.copy_within(..end, end);
                    end <<= 1;
                }
                return true;
            }
            // The next codeword in canonical order, bit-reversed: set the highest zero bit
            // below `len` and clear the ones above it.
            let bit = 1 << (usize::BITS - 1 - (codeword ^ (end - 1)).leading_zeros());
            codeword = (codeword & (bit - 1)) | bit;
        }
        loop {
            len += 1;
            if len > longest {
                return false;
            }
            table.copy_within(..end, end);
            end <<= 1;
            if counts[len] != 0 {
                break;
            }
        }
    }
}

/// Reads a dynamic block's header (the code-length code, then the literal/length and distance
/// codes' lengths) and builds its tables.
///
/// The lengths come as one sequence over both codes. Only those not zero are recorded, in
/// one list (the literal/length symbols first, as they come first), with a count per length
/// for each code: a short stream's header is mostly runs of zeros, and its tables are built
/// from the few symbols it uses. Not inlined: in a function of its own its loop keeps its
/// values in registers.
#[inline(never)]
fn read_codes(bits: &mut Bits, t: &mut Tables, room: &mut Scratch) -> bool {
    let mut b = *bits;
    b.refill();
    let nlit = b.take(5) as usize + 257;
    let ndist = b.take(5) as usize + 1;
    let nprecode = b.take(4) as usize + 4;
    if nlit > 286 || ndist > 30 {
        return false;
    }
    let mut pre_lens = [0u8; 19];
    for &sym in &PRECODE_ORDER[..nprecode] {
        if b.n < 3 {
            b.refill();
        }
        pre_lens[sym] = b.take(3) as u8;
    }
    if !build_of(&pre_lens, &mut t.pre, room) {
        return false;
    }
    let total = nlit + ndist;
    // Codewords of each length: [literal/length, distance].
    let mut counts = [[0u16; 16]; 2];
    let (pre_mask, pre) = (t.pre.mask & 127, &t.pre.entries);
    let used = &mut room.used;
    let mut nused = 0;
    // Length `len` for symbol `k` (of both codes' sequence): written whatever it is, and
    // kept when it is not zero. A short stream's lengths are zero or not at random, and a
    // branch on it was mispredicted one time in six (valgrind's branch simulation). Zeros
    // are counted as length 0, which no build reads. `false` when the list is full (it
    // cannot be: at most 316 lengths).
    let mut record = |k: usize, len: u32| -> bool {
        counts[usize::from(k >= nlit)][len as usize] += 1;
        let Some(slot) = used.get_mut(nused) else {
            return false;
        };
        *slot = (len << 9) as u16 | k as u16;
        nused += usize::from(len != 0);
        true
    };
    let mut i = 0;
    // The length a repeat (16) repeats; 16 (none) before the first length.
    let mut prev = 16;
    while i < total {
        // A code length's codeword and a repeat's extra bits take at most 7+7 bits.
        if b.n < 14 {
            b.refill();
        }
        let e = pre[b.buf as usize & pre_mask];
        b.consume_entry(e);
        let sym = e >> 8;
        if sym < 16 {
            if !record(i, sym) {
                return false;
            }
            prev = sym;
            i += 1;
            continue;
        }
        let (len, times) = match sym {
            16 if prev < 16 => (prev, 3 + b.take(2) as usize),
            17 => (0, 3 + b.take(3) as usize),
            18 => (0, 11 + b.take(7) as usize),
            _ => return false,
        };
        if times > total - i {
            return false;
        }
        if len != 0 {
            for k in i..i + times {
                if !record(k, len) {
                    return false;
                }
            }
        }
        prev = len;
        i += times;
    }
    *bits = b;
    let used = &room.used[..nused];
    let split = used.partition_point(|&p| usize::from(p & 511) < nlit);
    let (lit, dist) = used.split_at(split);
    // A block must be able to end.
    if lit.binary_search_by_key(&256, |&p| p & 511).is_err() {
        return false;
    }
    build(&counts[0], lit, 0, &mut t.lit, &mut room.sorted)
        && build(&counts[1], dist, nlit as u16, &mut t.dist, &mut room.sorted)
}

/// Decodes one block's symbols into `out` from `*made` on, to its end-of-block symbol. Works
/// on a copy of the bit reader, so that its state stays in registers.
#[inline(always)]
fn decode<const L: usize, const D: usize>(
    bits: &mut Bits,
    lit: &Table<L>,
    dist: &Table<D>,
    out: &mut [u8],
    made: &mut usize,
) -> bool {
    let mut b = *bits;
    let mut o = *made;
    // The tables' masks and entries in locals: a byte stored to `out` could otherwise be
    // taken to change them, and they would be read again for every symbol.
    let (lit_mask, lit) = (lit.mask & (L - 1), &lit.entries);
    let (dist_mask, dist) = (dist.mask & (D - 1), &dist.entries);
    let ended = loop {
        // Literals, the most of the symbols, in a loop of their own: one refill, then up to
        // four codewords with no question asked about the bits left. Asking before each one
        // was a branch mispredicted once in ten literals (valgrind's branch simulation),
        // dearer than the refills saved.
        let e = 'literals: loop {
            b.refill();
            for _ in 0..LITERALS_A_REFILL {
                let e = lit[b.buf as usize & lit_mask];
                b.consume_entry(e);
                if e >= 256 << 8 {
                    break 'literals e;
                }
                let Some(slot) = out.get_mut(o) else {
                    break 'literals 0;
                };
                *slot = (e >> 8) as u8;
                o += 1;
            }
        };
        let sym = (e >> 8) as usize;
        if sym < 256 {
            // No room for a literal.
            break false;
        }
        if sym == 256 {
            break true;
        }
        let Some(&base) = LEN_BASE.get(sym - 257) else {
            break false;
        };
        // A length's extra bits and a distance with its extra bits take at most 5+8+13.
        b.refill();
        let len = usize::from(base) + b.take(u32::from(LEN_EXTRA[sym - 257])) as usize;
        let e = dist[b.buf as usize & dist_mask];
        b.consume_entry(e);
        let dsym = (e >> 8) as usize;
        let Some(&base) = DIST_BASE.get(dsym) else {
            break false;
        };
        let back = usize::from(base) + b.take(u32::from(DIST_EXTRA[dsym])) as usize;
        if back > o || len > out.len() - o {
            break false;
        }
        if back >= len {
            out.copy_within(o - back..o - back + len, o);
        } else {
            // Overlapping: each byte may be one this copy made.
            for k in o..o + len {
                out[k] = out[k - back];
            }
        }
        o += len;
    };
    *bits = b;
    *made = o;
    ended
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zlib(data: &[u8], level: u32) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    /// What libdeflate makes of the stream, or `None` when it refuses it.
    fn reference(input: &[u8], size: usize) -> Option<Vec<u8>> {
        let mut out = vec![0; size + 1];
        let made = libdeflater::Decompressor::new()
            .zlib_decompress(input, &mut out)
            .ok()?;
        (made == size).then(|| out[..made].to_vec())
    }

    /// Deterministic pseudo-random bytes (xorshift), so a failure reproduces.
    fn noise(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn record(i: u64) -> Vec<u8> {
        format!(
            "id = \"01m8qedc{i:016x}\"\nagent = \"agent-{}\"\nproject = \"air\"\ndate = \"2026-0{}-1{}\"\nhours = \"{}.{}\"\ndescription = \"worked on item {} of the plan, with care\"\n",
            i % 97,
            1 + i % 9,
            i % 10,
            i % 13,
            i % 4 * 25,
            i * 7919
        )
        .into_bytes()
    }

    #[test]
    fn records_inflate_as_libdeflate_inflates_them() {
        let mut z = SmallInflater::new();
        let mut declined = 0;
        for i in 0..2000 {
            let data = record(i);
            for level in [1, 6, 9] {
                let stream = zlib(&data, level);
                let mut out = vec![0; data.len()];
                if z.zlib(&stream, &mut out) {
                    assert_eq!(out, data, "record {i} at level {level}");
                } else {
                    declined += 1;
                }
            }
        }
        // Records are what it is for: it must decode (nearly) all of them itself.
        assert!(declined < 60, "declined {declined} of 6000");
    }

    /// Bits for a hand-made stream: fields and extra bits least significant bit first,
    /// Huffman codewords most significant bit first, as deflate sends them.
    #[derive(Default)]
    struct BitWriter {
        bytes: Vec<u8>,
        n: usize,
    }

    impl BitWriter {
        fn bits(&mut self, value: u32, k: usize) {
            for b in 0..k {
                if self.n.is_multiple_of(8) {
                    self.bytes.push(0);
                }
                let last = self.bytes.len() - 1;
                self.bytes[last] |= (((value >> b) & 1) as u8) << (self.n % 8);
                self.n += 1;
            }
        }

        fn codeword(&mut self, code: u32, len: usize) {
            for b in (0..len).rev() {
                self.bits(code >> b, 1);
            }
        }
    }

    /// A dynamic block whose code lengths repeat (16) from the literal/length code into the
    /// distance code: the sequence is one over both codes, and zlib never sends this, but
    /// another compressor (or a hostile pack) may. Made by hand, so the case is certain.
    #[test]
    fn a_repeat_that_runs_from_one_code_into_the_other_inflates() {
        let mut w = BitWriter::default();
        w.bits(1, 1); // the last block
        w.bits(2, 2); // dynamic codes
        w.bits(258 - 257, 5); // literal/length symbols 0..=257
        w.bits(4 - 1, 5); // distance symbols 0..=3
        w.bits(16 - 4, 4); // 16 code-length code lengths, in their order
        // The code-length code: 2 has a 1-bit codeword (0), 16 and 18 2-bit ones (10, 11).
        for sym in &PRECODE_ORDER[..16] {
            w.bits(
                match sym {
                    2 => 1,
                    16 | 18 => 2,
                    _ => 0,
                },
                3,
            );
        }
        let (two, repeat, zeros) = ((0, 1), (0b10, 2), (0b11, 2));
        w.codeword(zeros.0, zeros.1); // 97 zeros
        w.bits(97 - 11, 7);
        w.codeword(two.0, two.1); // 'a'
        w.codeword(two.0, two.1); // 'b'
        w.codeword(zeros.0, zeros.1); // 138 + 19 zeros, to 255
        w.bits(138 - 11, 7);
        w.codeword(zeros.0, zeros.1);
        w.bits(19 - 11, 7);
        w.codeword(two.0, two.1); // 256, end of block
        // Five more: 257 (a length of 3), then distance symbols 0 to 3.
        w.codeword(repeat.0, repeat.1);
        w.bits(5 - 3, 2);
        // Literal/length codewords: 'a' 00, 'b' 01, 256 10, 257 11; distances 00 to 11.
        w.codeword(0b00, 2); // 'a'
        w.codeword(0b01, 2); // 'b'
        w.codeword(0b11, 2); // length 3
        w.codeword(0b01, 2); // distance 2
        w.codeword(0b10, 2); // end of block
        let data = b"ababa";
        let mut stream = vec![0x78, 0x01];
        stream.extend(&w.bytes);
        stream.extend(libdeflater::adler32(data).to_be_bytes());
        assert_eq!(reference(&stream, data.len()).as_deref(), Some(&data[..]));
        let mut out = vec![0; data.len()];
        assert!(SmallInflater::new().zlib(&stream, &mut out));
        assert_eq!(out, data);
    }

    #[test]
    fn fixed_code_streams_and_repeats_inflate() {
        let mut z = SmallInflater::new();
        for data in [
            b"a".to_vec(),
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
            b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc".to_vec(),
            Vec::new(),
        ] {
            let stream = zlib(&data, 6);
            let mut out = vec![0; data.len()];
            assert!(z.zlib(&stream, &mut out), "{data:?}");
            assert_eq!(out, data);
        }
    }

    /// Whatever the input, a `true` means libdeflate's bytes; a wrong size, a damaged stream,
    /// random bytes and truncations never pass as anything else.
    #[test]
    fn it_never_accepts_what_libdeflate_would_not_make() {
        let mut z = SmallInflater::new();
        let mut accepted = 0;
        for seed in 0..3000u64 {
            let data = match seed % 3 {
                0 => record(seed),
                1 => noise(seed, (seed % 700) as usize),
                _ => [record(seed), noise(seed, 40), record(seed + 1)].concat(),
            };
            let stream = zlib(&data, (seed % 10) as u32);
            let mut damaged = stream.clone();
            let at = (seed as usize * 31) % damaged.len();
            damaged[at] ^= 1 << (seed % 8);
            let cut = &stream[..stream.len() * (seed as usize % 7 + 1) / 8];
            let rubbish = noise(seed ^ 0x9e37, 64 + (seed % 200) as usize);
            for (input, size) in [
                (&stream[..], data.len()),
                (&stream[..], data.len() + 1),
                (&stream[..], data.len().saturating_sub(1)),
                (&damaged[..], data.len()),
                (cut, data.len()),
                (&rubbish[..], data.len()),
            ] {
                let mut out = vec![0; size];
                if z.zlib(input, &mut out) {
                    accepted += 1;
                    assert_eq!(Some(out), reference(input, size), "seed {seed}");
                }
            }
        }
        assert!(accepted > 1000, "accepted only {accepted}");
    }

    /// Hostile bytes behind a valid zlib header reach every block type and header field;
    /// nothing panics (these tests run with overflow checks) and nothing passes unless
    /// libdeflate makes the same bytes.
    #[test]
    fn random_blocks_never_panic_nor_pass_for_what_they_are_not() {
        let mut z = SmallInflater::new();
        for seed in 0..20_000u64 {
            let mut input = vec![0x78, 0x9c];
            input.extend(noise(seed, 1 + (seed % 300) as usize));
            // Steer the first block's type: stored, fixed, dynamic and invalid in turn.
            input[2] = (input[2] & !6) | ((seed % 4) as u8) << 1;
            for size in [0, 1, 20, 300, 5000] {
                let mut out = vec![0; size];
                if z.zlib(&input, &mut out) {
                    assert_eq!(Some(out), reference(&input, size), "seed {seed}");
                }
            }
        }
    }

    /// Not a test but a measurement, run by hand: how long inflating takes, in real time,
    /// for the blobs of a ledger (`git cat-file --batch` output named by
    /// `OVN_INFLATE_BLOBS`), each compressed as git does (zlib level 6), 20 passes, the best
    /// of 15. It asserts nothing about time. To run it:
    ///
    /// ```sh
    /// git -C LEDGER rev-list --objects --all | cut -d' ' -f1 \
    ///   | git -C LEDGER cat-file --batch-check='%(objecttype) %(objectname)' \
    ///   | awk '$1=="blob"{print $2}' | head -10000 | git -C LEDGER cat-file --batch > /tmp/blobs
    /// OVN_INFLATE_BLOBS=/tmp/blobs cargo test --release --lib inflate_time -- --ignored --nocapture
    /// ```
    #[test]
    #[ignore = "a measurement, run by hand (see its comment)"]
    // A measurement's input, named by the one running it, not the tool's environment.
    #[allow(clippy::disallowed_methods)]
    fn inflate_time() {
        let Ok(path) = std::env::var("OVN_INFLATE_BLOBS") else {
            eprintln!("OVN_INFLATE_BLOBS names no file");
            return;
        };
        let raw = std::fs::read(path).unwrap();
        let mut streams = Vec::new();
        let mut at = 0;
        while let Some(nl) = raw[at..].iter().position(|&b| b == b'\n') {
            let header = std::str::from_utf8(&raw[at..at + nl]).unwrap();
            let size: usize = header.rsplit(' ').next().unwrap().parse().unwrap();
            let blob = &raw[at + nl + 1..at + nl + 1 + size];
            streams.push((zlib(blob, 6), size));
            at += nl + 1 + size + 1;
            if at >= raw.len() {
                break;
            }
        }
        let mut z = SmallInflater::new();
        let mut out = vec![0u8; streams.iter().map(|s| s.1).max().unwrap_or(0)];
        let mut best = f64::MAX;
        for _ in 0..15 {
            let t = std::time::Instant::now();
            for _ in 0..20 {
                for (s, n) in &streams {
                    assert!(z.zlib(s, &mut out[..*n]));
                }
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        let each = best * 1e9 / (20.0 * streams.len() as f64);
        eprintln!(
            "{} streams: {each:.0} ns a stream (best of 15)",
            streams.len()
        );
    }
}
