//! One structured event per verification attempt, to a sink the integrator supplies.
//!
//! Why: operators must be able to show what happened (which method, which outcome, why)
//! without the audit trail itself becoming a store of sensitive data (PIPL art. 28;
//! the 2025 face-recognition measures' minimal retention). So an [`AuditEvent`] can only
//! hold: a time, the policy id, the method family, the outcome, a static reason code and
//! a subject reference that is either a [`MaskedId`] or a keyed pseudonym. There is no
//! field that could take an image, a template, a score, a code or a full ID number.
//!
//! ```
//! use facegate::audit::{AuditEvent, AuditSink, JsonLinesSink, SubjectRef};
//! use facegate::date::Date;
//! use facegate::idcard::CnIdNumber;
//! use facegate::{Family, Outcome};
//!
//! let mut sink = JsonLinesSink::new(Vec::new());
//! let id = CnIdNumber::parse("11010519491231002X", Date::new(2026, 1, 1).unwrap()).unwrap();
//! let ev = AuditEvent::new(1_700_000_000, "locker-7", Family::IdCard, Outcome::Accepted)
//!     .with_subject(SubjectRef::masked(id.masked()));
//! sink.record(&ev).unwrap();
//! let line = String::from_utf8(sink.into_inner()).unwrap();
//! assert!(line.contains("110105********002X") && !line.contains("19491231"));
//! ```

use std::io::Write;

use ring::hmac;
use serde::Serialize;

use crate::idcard::MaskedId;
use crate::verifier::{Family, Outcome, Reason};

/// Audit sink faults.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Writing failed.
    #[error("audit write failed")]
    Io(#[from] std::io::Error),
    /// Serialising failed.
    #[error("audit serialisation failed")]
    Serialize(#[from] serde_json::Error),
    /// The pseudonym key is too short (< 16 bytes).
    #[error("pseudonym key must be at least 16 bytes")]
    KeyLength,
}

/// The outcome of an attempt, without payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Verified.
    Accepted,
    /// Rejected.
    Rejected,
    /// Asked to try again.
    Retry,
}

/// Key for pseudonymous subject references (HMAC-SHA-256). Keep it per deployment so
/// the same person links across events without the identifier being stored.
pub struct PseudonymKey(hmac::Key);

impl PseudonymKey {
    /// From secret key bytes (≥ 16).
    pub fn new(secret: &[u8]) -> Result<Self, AuditError> {
        if secret.len() < 16 {
            return Err(AuditError::KeyLength);
        }
        Ok(PseudonymKey(hmac::Key::new(hmac::HMAC_SHA256, secret)))
    }
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(<redacted>)")
    }
}

/// Who the attempt was about, in a form safe to store: masked or pseudonymous.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SubjectRef(String);

impl SubjectRef {
    /// A masked identifier such as `110105********002X`. Only a [`MaskedId`] is
    /// accepted, and it can only be made by the fixed masking rules of
    /// [`crate::idcard::mask`], none of which shows a birth date.
    pub fn masked(m: MaskedId) -> Self {
        SubjectRef(m.as_str().to_owned())
    }

    /// A keyed pseudonym of any identifier (recipient phone number, staff id, …):
    /// `p:` and 32 hex digits of HMAC-SHA-256.
    pub fn pseudonym(key: &PseudonymKey, identifier: &str) -> Self {
        let tag = hmac::sign(&key.0, identifier.as_bytes());
        let hex = data_encoding::HEXLOWER.encode(tag.as_ref().get(..16).unwrap_or_default());
        SubjectRef(format!("p:{hex}"))
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One verification attempt, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    time: u64,
    policy: String,
    method: Family,
    outcome: AuditOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<SubjectRef>,
}

impl AuditEvent {
    /// An event at `time` (Unix seconds) under policy `policy_id`.
    pub fn new(time: u64, policy_id: &str, method: Family, outcome: Outcome) -> Self {
        let (outcome, reason) = match outcome {
            Outcome::Accepted => (AuditOutcome::Accepted, None),
            Outcome::Rejected(r) => (AuditOutcome::Rejected, Some(r)),
            Outcome::Retry(r) => (AuditOutcome::Retry, Some(r)),
        };
        AuditEvent {
            time,
            policy: policy_id.to_owned(),
            method,
            outcome,
            reason,
            subject: None,
        }
    }

    /// Adds a subject reference.
    pub fn with_subject(mut self, s: SubjectRef) -> Self {
        self.subject = Some(s);
        self
    }

    /// Time (Unix seconds).
    pub fn time(&self) -> u64 {
        self.time
    }
    /// Policy id.
    pub fn policy(&self) -> &str {
        &self.policy
    }
    /// Method family.
    pub fn method(&self) -> Family {
        self.method
    }
    /// Outcome.
    pub fn outcome(&self) -> AuditOutcome {
        self.outcome
    }
    /// Reason code, if not accepted.
    pub fn reason(&self) -> Option<Reason> {
        self.reason
    }
    /// Subject reference.
    pub fn subject(&self) -> Option<&SubjectRef> {
        self.subject.as_ref()
    }
}

/// Where audit events go (a file, syslog, a message queue…).
pub trait AuditSink {
    /// Records one event.
    fn record(&mut self, event: &AuditEvent) -> Result<(), AuditError>;
}

/// Writes one JSON object per line and flushes after each event.
#[derive(Debug)]
pub struct JsonLinesSink<W: Write> {
    out: W,
}

impl<W: Write> JsonLinesSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        JsonLinesSink { out }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> AuditSink for JsonLinesSink<W> {
    fn record(&mut self, event: &AuditEvent) -> Result<(), AuditError> {
        serde_json::to_writer(&mut self.out, event)?;
        self.out.write_all(b"\n")?;
        self.out.flush()?;
        Ok(())
    }
}

impl<S: AuditSink + ?Sized> AuditSink for &mut S {
    fn record(&mut self, event: &AuditEvent) -> Result<(), AuditError> {
        (**self).record(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verifier::ReasonKind;

    #[test]
    fn json_lines_shape() {
        const R: Reason = Reason::new("otp.mismatch", ReasonKind::Mismatch);
        let key = PseudonymKey::new(&[7u8; 32]).unwrap();
        let mut sink = JsonLinesSink::new(Vec::new());
        let a = AuditEvent::new(10, "p1", Family::OneTimeCode, Outcome::Rejected(R))
            .with_subject(SubjectRef::pseudonym(&key, "+8613800000000"));
        sink.record(&a).unwrap();
        sink.record(&AuditEvent::new(
            11,
            "p1",
            Family::IdCard,
            Outcome::Accepted,
        ))
        .unwrap();
        let text = String::from_utf8(sink.into_inner()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["method"], "one_time_code");
        assert_eq!(lines[0]["outcome"], "rejected");
        assert_eq!(lines[0]["reason"], "otp.mismatch");
        assert_eq!(lines[0]["policy"], "p1");
        let subj = lines[0]["subject"].as_str().unwrap();
        assert!(subj.starts_with("p:") && subj.len() == 34 && !subj.contains("13800000000"));
        assert_eq!(lines[1]["outcome"], "accepted");
        assert!(lines[1].get("reason").is_none());
        // Same identifier, same key → same pseudonym; different key → different.
        assert_eq!(
            SubjectRef::pseudonym(&key, "x"),
            SubjectRef::pseudonym(&key, "x")
        );
        let other = PseudonymKey::new(&[8u8; 32]).unwrap();
        assert_ne!(
            SubjectRef::pseudonym(&key, "x"),
            SubjectRef::pseudonym(&other, "x")
        );
        assert!(matches!(
            PseudonymKey::new(&[0u8; 8]),
            Err(AuditError::KeyLength)
        ));
    }

    #[test]
    fn write_failure_is_an_error() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut sink = JsonLinesSink::new(Broken);
        let e = sink
            .record(&AuditEvent::new(0, "p", Family::IdCard, Outcome::Accepted))
            .unwrap_err();
        assert!(matches!(e, AuditError::Io(_) | AuditError::Serialize(_)));
    }
}
