//! `application/x-www-form-urlencoded` values: the token request's body, the login
//! redirect's query, and the encoded forms of secrets the redactor hides.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a form value keeps literal: the WHATWG urlencoded byte set's complement, i.e.
/// ASCII letters, digits and `*-._` (the bytes servers, and the fake ones' checks of
/// the body, expect as they are). Space is listed as literal too, only so that
/// `form_encode` can turn it into `+`; every other byte, UTF-8 included, is `%XX`.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b' ');

/// `application/x-www-form-urlencoded` for one value (WHATWG form encoding): space is
/// `+`, escapes are upper case.
pub(crate) fn form_encode(value: &str) -> String {
    // The only spaces left after encoding are the value's own: a `+` or `%20` in the
    // value is itself escaped (`%2B`, `%2520`).
    utf8_percent_encode(value, FORM)
        .to_string()
        .replace(' ', "+")
}
