//! sfrefresh: keep OAuth 2.0 access tokens fresh. All the work is in the library.

mod arena;

#[global_allocator]
static ALLOCATOR: arena::Arena = arena::Arena;

fn main() -> std::process::ExitCode {
    sfrefresh::main_entry()
}
