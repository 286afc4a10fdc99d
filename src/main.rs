//! sfrefresh: keep OAuth 2.0 access tokens fresh. All the work is in the library.

fn main() -> std::process::ExitCode {
    sfrefresh::main_entry()
}
