//! The `ovn` binary: everything lives in the library; see [`ovn::cli`].

fn main() -> std::process::ExitCode {
    ovn::cli::main()
}
