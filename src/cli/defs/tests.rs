//! The table against the man page and the completion files.
