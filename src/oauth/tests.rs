//! Unit tests of the form body, client authentication and backoff.

use std::io;

use super::*;

fn exchange<'a>(fields: &'a [(&'a str, &'a str)], credentials: &'a Credentials) -> Exchange<'a> {
    Exchange {
        url: "https://h/t",
        proxy: None,
        fields,
        client_id: "3MVG9 id+/=",
        credentials,
    }
}

#[test]
fn form_body_for_each_client_auth() {
    let fields = [
        ("grant_type", "refresh_token"),
        ("refresh_token", "5Aep861.a/b+c=d&e"),
    ];
    let s = Secret::new("s3 cr&t");
    assert_eq!(
        form_body(&exchange(&fields, &Credentials::IdOnly)).expose(),
        "grant_type=refresh_token&refresh_token=5Aep861.a%2Fb%2Bc%3Dd%26e&client_id=3MVG9+id%2B%2F%3D"
    );
    assert_eq!(
        form_body(&exchange(&fields, &Credentials::Post(s.clone()))).expose(),
        "grant_type=refresh_token&refresh_token=5Aep861.a%2Fb%2Bc%3Dd%26e\
         &client_id=3MVG9+id%2B%2F%3D&client_secret=s3+cr%26t"
    );
    let basic = Credentials::Basic(s.clone());
    let x = exchange(&fields, &basic);
    assert_eq!(
        form_body(&x).expose(),
        "grant_type=refresh_token&refresh_token=5Aep861.a%2Fb%2Bc%3Dd%26e"
    );
    // base64("3MVG9+id%2B%2F%3D:s3+cr%26t")
    assert_eq!(
        basic_auth(&x).unwrap().expose(),
        "Basic M01WRzkraWQlMkIlMkYlM0Q6czMrY3IlMjZ0"
    );
    assert!(basic_auth(&exchange(&fields, &Credentials::Post(s))).is_none());
}

#[test]
fn form_encoding_keeps_only_the_whatwg_bytes_literal() {
    assert_eq!(
        form_encode("aZ09*-._ ~+%20/:é\u{0}"),
        "aZ09*-._+%7E%2B%2520%2F%3A%C3%A9%00"
    );
}

#[test]
fn backoff_grows_with_jitter_inside_bounds() {
    for attempt in 1..10 {
        let base =
            Duration::from_millis(250 * (1 << (attempt - 1).min(5))).min(Duration::from_secs(8));
        let d = backoff(attempt);
        assert!(d >= base / 2 && d <= base, "attempt {attempt}: {d:?}");
    }
}

#[test]
fn an_answer_that_started_is_never_unreachable() {
    let e = ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionReset));
    assert!(matches!(
        transport_failure(e, false),
        Failure::Unreachable(_)
    ));
    let e = ureq::Error::Io(io::Error::from(io::ErrorKind::ConnectionReset));
    let f = transport_failure(e, true);
    assert!(matches!(f, Failure::Unreadable(_)));
    assert!(!f.retryable());
    let f = transport_failure(ureq::Error::LargeResponseHeader(1, 2), true);
    assert!(matches!(f, Failure::Unreadable(_)));
}

#[test]
fn a_head_over_the_limit_names_the_limit_and_is_not_retried() {
    let f = transport_failure(ureq::Error::LargeResponseHeader(80 * 1024, 64 * 1024), true);
    assert!(!f.retryable());
    match f {
        Failure::Unreadable(detail) => {
            assert_eq!(detail, "its headers are larger than the 64 KiB limit")
        }
        other => panic!("{other:?}"),
    }
}
