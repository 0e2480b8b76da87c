//! The `ovn` binary: everything lives in the library; see [`ovn::cli`].
//!
//! Kept to the allocator and one call so that tests, the man-page generator and benchmarks
//! drive exactly the code the binary runs, through the library.

// Loading a large ledger makes millions of small allocations from two threads at once;
// mimalloc keeps them smaller and faster than the system allocator does. It is built not
// to ask for transparent huge pages (the `no_thp` feature): a cold read faults in fresh
// memory throughout, and zeroing 2 MiB pages cost more than the TLB saved (measured at a
// million records: cold `check --at` 6% less CPU and 23 MiB less without them).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    leave(ovn::cli::main())
}

/// Ends the process with `status` without running the C library's exit handlers.
///
/// Why: the one handler `ovn` has is mimalloc's, which at exit hands every range of memory
/// freed during the run back to the kernel, one `madvise` call each (about 700 after a payout
/// preview at a million records, each a TLB shootdown on every core a thread of `ovn` runs
/// on), for an address space the kernel is about to take back whole. Nothing is lost: files,
/// cache entries and commits are written and renamed into place before `main` returns,
/// standard output is flushed here, and standard error is not buffered.
#[allow(unsafe_code)]
fn leave(status: u8) -> ! {
    use std::io::Write;
    // A closed pipe is no failure (see `ovn::cli::main`), so neither is failing to flush.
    let _ = std::io::stdout().flush();
    #[cfg(unix)]
    // SAFETY: `_exit` ends the process; no code of this process runs after it, so nothing
    // can observe state it leaves behind.
    unsafe {
        libc::_exit(i32::from(status))
    }
    #[cfg(not(unix))]
    std::process::exit(i32::from(status))
}
