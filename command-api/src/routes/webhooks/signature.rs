//! Webhook signatures: only a provider holding the shared secret can make us record a
//! message. Both checks compare in constant time (`Mac::verify_slice`).
//!
//! - `generic`: `X-CareOps-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw body under
//!   `CAREOPS_WEBHOOK_SECRET`.
//! - `twilio`: `X-Twilio-Signature`, Twilio's documented scheme: the base64 HMAC-SHA1, under
//!   the account's auth token, of the full URL Twilio called followed by every POST
//!   parameter's name and value, sorted by name, with no separators.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

/// Checks a `generic` signature header (`sha256=<hex>`) against the body.
pub fn generic_is_valid(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header
        .map(str::trim)
        .and_then(|h| h.strip_prefix("sha256="))
    else {
        return false;
    };
    let Some(claimed) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&claimed).is_ok()
}

/// The `generic` signature header value of a body (what a provider, or a test, sends).
pub fn generic_signature(secret: &[u8], body: &[u8]) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!("sha256={hex}"))
}

/// What Twilio signs: the URL, then each parameter's name and value, sorted by name (and
/// by value for a repeated name).
fn twilio_payload(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut payload = url.to_string();
    for (name, value) in sorted {
        payload.push_str(name);
        payload.push_str(value);
    }
    payload
}

fn twilio_mac(auth_token: &[u8], url: &str, params: &[(String, String)]) -> Option<Hmac<Sha1>> {
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token).ok()?;
    mac.update(twilio_payload(url, params).as_bytes());
    Some(mac)
}

/// The `X-Twilio-Signature` Twilio would send for this request.
pub fn twilio_signature(
    auth_token: &[u8],
    url: &str,
    params: &[(String, String)],
) -> Option<String> {
    let mac = twilio_mac(auth_token, url, params)?;
    Some(STANDARD.encode(mac.finalize().into_bytes()))
}

/// Checks `X-Twilio-Signature` against each URL the request may have been sent to (Twilio
/// signs the URL as configured, which may differ from ours only by an explicit default port).
pub fn twilio_is_valid(
    auth_token: &[u8],
    urls: &[String],
    params: &[(String, String)],
    header: Option<&str>,
) -> bool {
    let Some(claimed) = header.and_then(|h| STANDARD.decode(h.trim()).ok()) else {
        return false;
    };
    urls.iter().any(|url| {
        twilio_mac(auth_token, url, params).is_some_and(|mac| mac.verify_slice(&claimed).is_ok())
    })
}

/// The URL as given, and the same URL with its scheme's default port added or removed.
pub fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_string()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let default_port = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return variants,
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let other = match authority.rsplit_once(':') {
        Some((host, port)) if port == default_port => format!("{scheme}://{host}{tail}"),
        Some(_) => return variants,
        None => format!("{scheme}://{authority}:{default_port}{tail}"),
    };
    variants.push(other);
    variants
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let nibble = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    hex.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => Some((nibble(*high)? << 4) | nibble(*low)?),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn twilios_documented_example_signs_as_twilio_says() {
        // The example of Twilio's "Webhooks security" page.
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let p = params(&[
            ("Digits", "1234"),
            ("To", "+18005551212"),
            ("From", "+12349013030"),
            ("Caller", "+12349013030"),
            ("CallSid", "CA1234567890ABCDE"),
        ]);
        assert_eq!(
            twilio_signature(b"12345", url, &p).unwrap(),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        let urls = vec![url.to_string()];
        assert!(twilio_is_valid(
            b"12345",
            &urls,
            &p,
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ));
        assert!(!twilio_is_valid(
            b"54321",
            &urls,
            &p,
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ));
        let mut changed = p.clone();
        changed[0].1 = "1235".into();
        assert!(!twilio_is_valid(
            b"12345",
            &urls,
            &changed,
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ));
        assert!(!twilio_is_valid(b"12345", &urls, &p, None));
        assert!(!twilio_is_valid(b"12345", &urls, &p, Some("not base64!")));
    }

    #[test]
    fn a_generic_signature_is_the_hex_hmac_sha256_of_the_raw_body() {
        let body = br#"{"channel":"sms"}"#;
        let expected = "sha256=5cca0fe3f20ef380801014fcfe7a0c81d26d3e92ba540fca3d9489d771650ef4";
        assert_eq!(generic_signature(b"whsec", body).unwrap(), expected);
        assert!(generic_is_valid(b"whsec", body, Some(expected)));
        assert!(!generic_is_valid(b"other", body, Some(expected)));
        assert!(!generic_is_valid(b"whsec", b"{}", Some(expected)));
        assert!(!generic_is_valid(b"whsec", body, Some(&expected[7..])));
        assert!(!generic_is_valid(b"whsec", body, Some("sha256=zz")));
        assert!(!generic_is_valid(b"whsec", body, None));
    }

    #[test]
    fn a_url_is_also_tried_with_its_default_port_toggled() {
        assert_eq!(
            url_variants("https://api.example.com/hook?workspace=a"),
            vec![
                "https://api.example.com/hook?workspace=a",
                "https://api.example.com:443/hook?workspace=a"
            ]
        );
        assert_eq!(
            url_variants("http://localhost:80/x"),
            vec!["http://localhost:80/x", "http://localhost/x"]
        );
        assert_eq!(
            url_variants("http://localhost:8080/x"),
            vec!["http://localhost:8080/x"]
        );
    }
}
