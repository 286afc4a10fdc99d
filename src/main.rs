//! sfrefresh: keep OAuth 2.0 access tokens fresh. All the work is in the library.

// The 64-bit static builds' allocator: docs/benchmarks.md, "Allocator". Not on armv7:
// there dlmalloc 0.2.14 hangs or crashes once a buffer reaches about 64 KiB (a 60 KiB
// token file; caught by `make dist-test` under qemu-arm), so armv7 keeps musl's malloc.
#[cfg(all(target_env = "musl", target_pointer_width = "64"))]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

fn main() -> std::process::ExitCode {
    sfrefresh::main_entry()
}
