//! The classification of a token endpoint's answer: first byte the status, the rest the body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sfrefresh::fuzz::answer(data));
