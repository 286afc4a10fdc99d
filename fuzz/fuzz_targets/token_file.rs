//! The token file parser and the exact printer: any bytes, and what parses must save
//! and read back to the same document.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sfrefresh::fuzz::token_file(data));
