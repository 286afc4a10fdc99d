//! sfrefresh: keep OAuth 2.0 access tokens fresh. All the work is in the library.

// The static builds' allocator: docs/benchmarks.md, "Allocator".
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() -> std::process::ExitCode {
    sfrefresh::main_entry()
}
