//! The NO_PROXY matcher (`list\nhost`) and the proxy URL parser (the whole input).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sfrefresh::fuzz::proxy(data));
