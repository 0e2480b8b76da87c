//! The `ovn` binary: everything lives in the library; see [`ovn::cli`].

// Loading a large ledger makes millions of small allocations from two threads at once;
// mimalloc keeps them smaller and faster than the system allocator does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ovn::cli::main()
}
