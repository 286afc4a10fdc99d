//! Generated completion files, from the flag table.
