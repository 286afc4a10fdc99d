//! Unit tests of answer classification and Retry-After parsing.

use super::*;

fn head(status: u16) -> Head<'static> {
    Head {
        status,
        location: None,
        retry_after: None,
        html: false,
    }
}

fn outcome(status: u16, body: &str) -> Outcome {
    classify(
        &head(status),
        Ok(body.as_bytes().to_vec()),
        &Redactor::default(),
    )
}

fn failure(o: Outcome) -> Failure {
    match o {
        Outcome::Failed { failure, .. } => failure,
        Outcome::Done(_) => panic!("expected a failure"),
    }
}

fn error(o: Outcome) -> Error {
    let at = Where {
        url: "https://h/t",
        proxy: None,
        timeout: Duration::from_secs(30),
        asking: Asking::Refresh,
    };
    failure(o).to_error(&at, 1)
}

#[test]
fn classify_success_and_unusable_200s() {
    assert!(matches!(
        outcome(200, r#"{"access_token":"a"}"#),
        Outcome::Done(_)
    ));
    for body in ["", "<html>", "[]", "{}", r#"{"access_token":"a""#] {
        let f = failure(outcome(200, body));
        assert!(!f.retryable(), "{body:?}");
        assert!(matches!(f, Failure::BadAnswer { .. }), "{body:?}");
    }
    let o = classify(&head(200), Err(BodyError::TooLarge), &Redactor::default());
    assert!(error(o).to_string().contains("larger than 256 KiB"));
    let f = failure(classify(
        &head(200),
        Err(BodyError::Timeout),
        &Redactor::default(),
    ));
    assert!(
        !f.retryable(),
        "a 200 is never retried, even cut short by the deadline"
    );
    assert!(
        error(outcome(204, ""))
            .to_string()
            .contains("must be HTTP 200")
    );
}

#[test]
fn a_200_that_carries_a_refresh_token_is_kept_for_rescue() {
    let Outcome::Failed { keep, .. } = outcome(200, r#"{"refresh_token":"r2","x":1}"#) else {
        panic!()
    };
    assert!(keep.is_some());
    let Outcome::Failed { keep, .. } = outcome(200, r#"{"x":1}"#) else {
        panic!()
    };
    assert!(keep.is_none());
}

#[test]
fn classify_transient_answers() {
    for (status, body) in [
        (500, "<html>down</html>"),
        (503, ""),
        (429, r#"{"error":"rate"}"#),
        (
            400,
            r#"{"error":"invalid_grant","error_description":"token request is already being processed"}"#,
        ),
    ] {
        assert!(
            failure(outcome(status, body)).retryable(),
            "{status} {body}"
        );
    }
    let h = Head {
        retry_after: Some(Duration::from_secs(2)),
        ..head(429)
    };
    let f = failure(classify(&h, Ok(Vec::new()), &Redactor::default()));
    assert_eq!(f.wait(), Some(Duration::from_secs(2)));
}

#[test]
fn classify_refusals_wrong_endpoints_and_redirects() {
    let e = error(outcome(
        400,
        r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#,
    ));
    assert_eq!(e.exit_code(), 5);
    assert_eq!(
        e.to_string(),
        "https://h/t refused the refresh (HTTP 400): invalid_grant: expired access/refresh token"
    );
    for (status, body) in [
        (404, "<h1>Not\nFound</h1>"),
        (405, ""),
        (400, "<html>x</html>"),
    ] {
        let e = error(outcome(status, body));
        assert_eq!(e.exit_code(), 4, "{status}");
        assert!(e.to_string().contains("is not a token endpoint"), "{e}");
    }
    let h = Head {
        location: Some("https://evil/\x1b[2J"),
        ..head(302)
    };
    let e = error(classify(&h, Ok(vec![]), &Redactor::default()));
    assert_eq!(
        e.to_string(),
        "https://h/t answered HTTP 302, a redirect to https://evil/[2J"
    );
    assert_eq!(e.exit_code(), 4);
}

#[test]
fn server_text_is_redacted() {
    let mut r = Redactor::default();
    r.add_str("5Aep861.secret/value");
    let body =
        r#"{"error":"invalid_grant","error_description":"bad token 5Aep861.secret%2Fvalue"}"#;
    let e = failure(classify(&head(400), Ok(body.as_bytes().to_vec()), &r));
    let Failure::Refused { oauth: Some(o), .. } = e else {
        panic!()
    };
    assert_eq!(o.description.as_deref(), Some("bad token [redacted]"));
}

#[test]
fn retry_after_forms() {
    let now = UNIX_EPOCH + Duration::from_secs(784_111_770);
    assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
    // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
        Some(Duration::from_secs(7))
    );
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon", now), None);
    assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    assert_eq!(
        parse_http_date("Sat, 29 Feb 2020 12:00:00 GMT"),
        Some(1_582_977_600)
    );
}

fn at(asking: Asking) -> Where<'static> {
    Where {
        url: "u",
        proxy: Some("http://***@p:1"),
        timeout: Duration::from_secs(30),
        asking,
    }
}

#[test]
fn attempts_are_mentioned_only_when_there_were_retries() {
    let f = Failure::Transient {
        status: 503,
        detail: String::new(),
        after: None,
    };
    let at = at(Asking::Refresh);
    assert_eq!(f.to_error(&at, 1).to_string(), "u answered HTTP 503");
    assert_eq!(
        f.to_error(&at, 3).to_string(),
        "u answered HTTP 503 (after 3 attempts)"
    );
}

#[test]
fn no_status_is_invented() {
    let at = at(Asking::Refresh);
    let e = Failure::Unreadable("its headers are malformed".into()).to_error(&at, 1);
    assert!(!e.to_string().contains("HTTP 0"), "{e}");
    let e = Failure::ProxyRefused(407).to_error(&at, 2);
    assert_eq!(
        e.to_string(),
        "proxy authentication failed at http://***@p:1 (HTTP 407)"
    );
    assert!(e.hint().is_some_and(|h| h.contains("not retried")));
}

#[test]
fn a_refusal_reads_like_rfc_6749_in_the_words_of_what_was_asked() {
    let f = Failure::Refused {
        status: 400,
        oauth: Some(OAuthError {
            error: "invalid_grant".into(),
            description: Some("expired access/refresh token".into()),
        }),
        body: String::new(),
    };
    let e = f.to_error(&at(Asking::Refresh), 1);
    assert_eq!(
        e.to_string(),
        "u refused the refresh (HTTP 400): invalid_grant: expired access/refresh token"
    );
    assert_eq!(e.exit_code(), 5);
    assert!(e.hint().is_some_and(|h| h.contains("authorise again")));
    let e = f.to_error(&at(Asking::Login), 1);
    assert!(
        e.to_string().starts_with("u refused the login (HTTP 400)"),
        "{e}"
    );
    assert_eq!(e.oauth().map(|o| o.error.as_str()), Some("invalid_grant"));
}
