//! `otpauth://` URIs (the Key Uri Format authenticator apps scan as a QR code), for
//! enrolling staff authenticators.
//!
//! `otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30`
//! and `otpauth://hotp/...&counter=N`. The URI contains the shared secret, so export
//! returns a zeroizing string and `Debug` redacts the secret.

use zeroize::Zeroizing;

use super::{Algorithm, Digits, OtpError, Secret};

/// HOTP or TOTP, with the type's own parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UriKind {
    /// Counter-based; `counter` is the initial counter.
    Hotp {
        /// Initial counter.
        counter: u64,
    },
    /// Time-based; `period` is the step in seconds.
    Totp {
        /// Time step in seconds (1..=3600).
        period: u64,
    },
}

/// A parsed `otpauth://` URI.
#[derive(Debug)]
pub struct OtpAuthUri {
    /// HOTP or TOTP.
    pub kind: UriKind,
    /// The label (`Issuer:account` or `account`), decoded.
    pub label: String,
    /// The `issuer` parameter, decoded.
    pub issuer: Option<String>,
    /// The shared secret.
    pub secret: Secret,
    /// HMAC algorithm (default SHA1).
    pub algorithm: Algorithm,
    /// Code length (default 6).
    pub digits: Digits,
}

impl OtpAuthUri {
    /// Parses a URI. Unknown parameters are ignored (apps add their own, e.g. `image`).
    pub fn parse(uri: &str) -> Result<OtpAuthUri, OtpError> {
        let rest = strip_prefix_ci(uri, "otpauth://").ok_or(OtpError::Uri("scheme"))?;
        let (ty, rest) = rest.split_once('/').ok_or(OtpError::Uri("type"))?;
        let (label_enc, query) = rest.split_once('?').unwrap_or((rest, ""));
        let label = decode(label_enc)?;
        if label.is_empty() {
            return Err(OtpError::Uri("label"));
        }
        let mut secret = None;
        let mut issuer = None;
        let mut algorithm = Algorithm::Sha1;
        let mut digits = Digits::SIX;
        let mut counter = None;
        let mut period = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = Zeroizing::new(decode(v)?);
            match k.to_ascii_lowercase().as_str() {
                "secret" => secret = Some(Secret::from_base32(&v)?),
                "issuer" => issuer = Some(v.to_string()),
                "algorithm" => algorithm = v.parse().map_err(|_| OtpError::Uri("algorithm"))?,
                "digits" => digits = Digits::new(v.parse().map_err(|_| OtpError::Uri("digits"))?)?,
                "counter" => {
                    counter = Some(v.parse::<u64>().map_err(|_| OtpError::Uri("counter"))?)
                }
                "period" => {
                    let p = v.parse::<u64>().map_err(|_| OtpError::Uri("period"))?;
                    if !(1..=3600).contains(&p) {
                        return Err(OtpError::Uri("period"));
                    }
                    period = Some(p);
                }
                _ => {}
            }
        }
        let kind = match ty.to_ascii_lowercase().as_str() {
            "hotp" => UriKind::Hotp {
                counter: counter.ok_or(OtpError::Uri("counter"))?,
            },
            "totp" => UriKind::Totp {
                period: period.unwrap_or(30),
            },
            _ => return Err(OtpError::Uri("type")),
        };
        let secret = secret.ok_or(OtpError::Uri("secret"))?;
        Ok(OtpAuthUri {
            kind,
            label,
            issuer,
            secret,
            algorithm,
            digits,
        })
    }

    /// Serialises to a URI (contains the secret: show it as a QR code, never log it).
    pub fn to_uri(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::from("otpauth://"));
        s.push_str(match self.kind {
            UriKind::Hotp { .. } => "hotp/",
            UriKind::Totp { .. } => "totp/",
        });
        encode_into(&self.label, &mut s);
        s.push_str("?secret=");
        s.push_str(&self.secret.to_base32());
        if let Some(i) = &self.issuer {
            s.push_str("&issuer=");
            encode_into(i, &mut s);
        }
        s.push_str("&algorithm=");
        s.push_str(self.algorithm.as_str());
        s.push_str(&format!("&digits={}", self.digits.get()));
        match self.kind {
            UriKind::Hotp { counter } => s.push_str(&format!("&counter={counter}")),
            UriKind::Totp { period } => s.push_str(&format!("&period={period}")),
        }
        s
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn encode_into(text: &str, out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn decode(s: &str) -> Result<String, OtpError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .ok_or(OtpError::Uri("percent-encoding"))?;
            let h = std::str::from_utf8(hex).map_err(|_| OtpError::Uri("percent-encoding"))?;
            let v = u8::from_str_radix(h, 16).map_err(|_| OtpError::Uri("percent-encoding"))?;
            out.push(v);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| OtpError::Uri("utf-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_google_style_uri() {
        let u = OtpAuthUri::parse(
            "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA256&digits=8&period=60&image=x",
        )
        .unwrap();
        assert_eq!(u.kind, UriKind::Totp { period: 60 });
        assert_eq!(u.label, "ACME Co:john.doe@email.com");
        assert_eq!(u.issuer.as_deref(), Some("ACME Co"));
        assert_eq!(u.algorithm, Algorithm::Sha256);
        assert_eq!(u.digits.get(), 8);
        assert_eq!(u.secret.len(), 20);
        let dbg = format!("{u:?}");
        assert!(!dbg.contains("HXDMVJ") && dbg.contains("redacted"), "{dbg}");
        let again = OtpAuthUri::parse(&u.to_uri()).unwrap();
        assert_eq!(again.label, u.label);
        assert_eq!(*again.secret.to_base32(), *u.secret.to_base32());
    }

    #[test]
    fn hotp_needs_counter_and_defaults_apply() {
        let s = "otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert!(matches!(
            OtpAuthUri::parse(s),
            Err(OtpError::Uri("counter"))
        ));
        let u = OtpAuthUri::parse(&format!("{s}&counter=7")).unwrap();
        assert_eq!(u.kind, UriKind::Hotp { counter: 7 });
        assert_eq!((u.algorithm, u.digits.get()), (Algorithm::Sha1, 6));
    }

    #[test]
    fn malformed_uris() {
        let cases = [
            (
                "http://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
                "scheme",
            ),
            (
                "otpauth://motp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
                "type",
            ),
            (
                "otpauth://totp/?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
                "label",
            ),
            ("otpauth://totp/x", "secret"),
            (
                "otpauth://totp/x%2?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
                "percent-encoding",
            ),
            (
                "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&period=0",
                "period",
            ),
            (
                "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=MD5",
                "algorithm",
            ),
        ];
        for (uri, part) in cases {
            match OtpAuthUri::parse(uri) {
                Err(OtpError::Uri(p)) => assert_eq!(p, part, "{uri}"),
                other => panic!("{uri}: {other:?}"),
            }
        }
        assert!(matches!(
            OtpAuthUri::parse("otpauth://totp/x?secret=GEZDGNBV"),
            Err(OtpError::SecretLength)
        ));
        assert!(matches!(
            OtpAuthUri::parse("otpauth://totp/x?secret=1!"),
            Err(OtpError::SecretBase32)
        ));
        assert!(matches!(
            OtpAuthUri::parse("otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=9"),
            Err(OtpError::Digits)
        ));
    }
}
