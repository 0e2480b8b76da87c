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

fn main() -> std::process::ExitCode {
    ovn::cli::main()
}
